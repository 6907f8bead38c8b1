"""The compiled chess decoder (zeroforge.chess._decoder); all else is in pyproject.toml.

C, built at install: decoding .binpack into NNUE batches must keep a GPU fed (1M+ positions/s
per core) and C needs no JIT warm-up per worker process. In a work tree without installing:
`.venv/bin/python setup.py build_ext --inplace`.
"""

from setuptools import Extension, setup

CSRC = "src/zeroforge/chess/csrc/"

setup(
    ext_modules=[
        Extension(
            "zeroforge.chess._decoder",
            sources=[CSRC + name for name in ("board.c", "decode.c", "module.c")],
            depends=[CSRC + name for name in ("board.h", "decode.h")],
            extra_compile_args=["-O3", "-std=c99", "-Wall"],
        )
    ]
)
