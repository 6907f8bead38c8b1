"""`zeroforge bench [--quick] [--json] [--only AREA] [--doc [PATH]]`: run the benchmark areas
(`zeroforge.bench.AREAS`) and print their figures; with `--doc`, also rewrite their sections of
docs/PERFORMANCE.md (or PATH). Without it nothing is written: a user measuring their own machine
keeps a clean tree.

Each area's section lives between `<!-- bench:AREA -->` and `<!-- /bench:AREA -->`, so running
one area keeps the others. Every section starts with when and where it was measured, since
the figures are only comparable on the same machine (ratios against a reference measured in
the same run are what carry over).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from zeroforge.atomic import atomic_write_text
from zeroforge.bench import AREAS, BenchResult

DEFAULT_DOC = Path("docs/PERFORMANCE.md")
DOC_HEADER = """# Performance

Written by `zeroforge bench` (code in `src/zeroforge/bench/`, one module per area). Every
figure sits beside a reference measured in the same run, and the ratio is what to compare
across machines: other processes on a small machine swing absolute numbers by 2x.

Reproduce everything: `.venv/bin/zeroforge bench --doc` (a few minutes; without `--doc` the
figures are only printed; `--quick` for a smoke run, `--only AREA` for one section, `--json`
for the flat figures). Each section names the machine it was measured on.
"""


def machine() -> str:
    """CPU model, cores, load and library versions, in one line."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    import numpy
    import torch

    return (
        f"{model}, {os.cpu_count()} cores, load average {load}; Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, torch {torch.__version__}"
    )


def section(area: str, result: BenchResult, quick: bool) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kind = "quick run (`--quick`)" if quick else "full run"
    return (
        f"<!-- bench:{area} -->\n_Measured {stamp}, {kind}, on: {machine()}._\n\n"
        f"{result.markdown.strip()}\n<!-- /bench:{area} -->"
    )


def update_doc(doc: Path, sections: dict[str, str]) -> None:
    """Replace each area's section in place, or append it; write atomically."""
    text = doc.read_text() if doc.exists() else DOC_HEADER
    for area, body in sections.items():
        pattern = re.compile(
            rf"<!-- bench:{re.escape(area)} -->.*?<!-- /bench:{re.escape(area)} -->", re.DOTALL
        )
        if pattern.search(text):
            text = pattern.sub(lambda _, body=body: body, text)
        else:
            text = text.rstrip("\n") + "\n\n" + body + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(doc, text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="zeroforge bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--json", action="store_true", help="print the flat figures as JSON")
    parser.add_argument(
        "--only",
        action="append",
        metavar="AREA",
        choices=AREAS,
        help=f"run only this area (repeatable): {', '.join(AREAS)}",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        nargs="?",
        const=DEFAULT_DOC,
        metavar="PATH",
        help=f"also rewrite these areas' sections of the performance notes ({DEFAULT_DOC})",
    )
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    sections: dict[str, str] = {}
    for area in args.only or AREAS:
        module = importlib.import_module(f"zeroforge.bench.{area}")
        if not args.json:
            print(f"bench {area} ...", file=sys.stderr, flush=True)
        result = module.run(args.quick)
        figures.update(result.figures)
        sections[area] = section(area, result, args.quick)
        if not args.json:
            print(result.markdown.strip() + "\n")
    if args.doc is not None:
        update_doc(args.doc, sections)
        if not args.json:
            print(f"wrote {args.doc}", file=sys.stderr)
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    return 0
