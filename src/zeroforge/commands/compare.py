"""`zeroforge compare RUN_DIR...`: training runs side by side.

Prints a Markdown table (best and final validation loss, accuracy, wall time, samples/s,
parameters) and writes two PNGs of the loss curves, against steps and against wall time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LOSS_VS_STEP = "loss_vs_step.png"
LOSS_VS_TIME = "loss_vs_time.png"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge compare", description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (with metrics.csv)")
    parser.add_argument("--names", nargs="+", help="labels for the runs (default: dir names)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help=f"directory for {LOSS_VS_STEP} and {LOSS_VS_TIME} (default: .)",
    )
    parser.add_argument("--prefix", default="", help="prefix of the PNG file names")
    parser.add_argument("--no-plots", action="store_true", help="print the table only")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from zeroforge.analysis.runs import RunError, load_run, markdown_table, plot_losses, summarize

    if args.names and len(args.names) != len(args.runs):
        print(
            f"zeroforge compare: {len(args.names)} names for {len(args.runs)} runs", file=sys.stderr
        )
        return 1
    names = args.names or [None] * len(args.runs)
    try:
        runs = [load_run(path, name) for path, name in zip(args.runs, names, strict=True)]
    except RunError as exc:
        print(f"zeroforge compare: {exc}", file=sys.stderr)
        return 1
    print(markdown_table([summarize(run) for run in runs]))
    if not args.no_plots:
        for x, file in (("step", LOSS_VS_STEP), ("wall_s", LOSS_VS_TIME)):
            path = args.out / f"{args.prefix}{file}"
            plot_losses(runs, x, path)
            print(f"wrote {path}")
    return 0
