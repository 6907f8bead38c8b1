"""Held-out loss per step of the NNUE runs (docs/experiments/nnue-3274.md, nnue-distillation.md).

    python scripts/experiments/nnue_plots.py OUT.png RUNS_DIR LABEL=RUN[,RUN...]... [--title T]

(the last "=" of an item separates its label from its runs)

Each LABEL is one line: the mean over its runs (seeds) of `val_loss` from RUNS_DIR/RUN/metrics.csv
(the trainer's validation on the held-out share of the data), with the single runs drawn thin
when there are several. Written with matplotlib's Agg backend, atomically.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zeroforge.atomic import atomic_write_bytes  # noqa: E402


def val_curve(run_dir: Path) -> dict[int, float]:
    """step -> held-out loss (the last row of a step wins)."""
    with open(run_dir / "metrics.csv", newline="") as handle:
        return {int(row["step"]): float(row["val_loss"]) for row in csv.DictReader(handle)
                if row.get("val_loss")}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("runs_dir", type=Path)
    parser.add_argument("lines", nargs="+", metavar="LABEL=RUN[,RUN...]")
    parser.add_argument("--title", default="held-out loss (trainer's validation)")
    parser.add_argument("--from-step", type=int, default=0, help="first step drawn")
    args = parser.parse_args(argv)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for index, item in enumerate(args.lines):
        label, runs = item.rsplit("=", 1)
        curves = [val_curve(args.runs_dir / run) for run in runs.split(",")]
        steps = sorted(
            s for s in set.intersection(*(set(c) for c in curves)) if s >= args.from_step
        )
        colour = f"C{index}"
        if len(curves) > 1:
            for curve in curves:
                ax.plot(steps, [curve[s] for s in steps], color=colour, lw=0.6, alpha=0.4)
        mean = [sum(c[s] for c in curves) / len(curves) for s in steps]
        seeds = f" ({len(curves)} seeds, mean)" if len(curves) > 1 else ""
        ax.plot(steps, mean, color=colour, lw=1.8, marker="o", ms=3, label=label + seeds)
    ax.set_xlabel("step (batch 1,024)")
    ax.set_ylabel("held-out loss (lambda 1, power 2.5, scale 361)")
    ax.set_title(args.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
