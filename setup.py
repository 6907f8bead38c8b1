"""The compiled parts: the chess decoder (zeroforge.chess._decoder) and Ranger's one-pass row
update (zeroforge.train._rows); all else is in pyproject.toml.

C, built at install: decoding .binpack into NNUE batches must keep a GPU fed (millions of positions/s
per core) and C needs no JIT warm-up per worker process; the lazy NNUE step's optimiser is
memory-bound, and one pass over each touched row beats torch's fifteen. In a work tree without
installing: `.venv/bin/python setup.py build_ext --inplace`.
"""

import os

from setuptools import Extension, setup

CSRC = "src/zeroforge/chess/csrc/"
# Opt-in for a build that only runs on this machine's CPU kind: ZEROFORGE_NATIVE=1 adds
# -march=native (hardware popcount and pdep; see docs/PERFORMANCE.md for what it gains).
NATIVE = ["-march=native"] if os.environ.get("ZEROFORGE_NATIVE") == "1" else []

setup(
    ext_modules=[
        Extension(
            "zeroforge.chess._decoder",
            sources=[CSRC + name for name in ("board.c", "decode.c", "module.c")],
            depends=[CSRC + name for name in ("board.h", "decode.h")],
            extra_compile_args=["-O3", "-std=c99", "-Wall", *NATIVE],
        ),
        Extension(
            "zeroforge.train._rows",
            sources=["src/zeroforge/train/csrc/rows.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-fno-math-errno", *NATIVE],
        ),
    ]
)
