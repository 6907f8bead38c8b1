"""Plot for docs/experiments/distillation.md: held-out policy loss and accuracy per step.

    .venv/bin/python docs/experiments/plot_distillation.py OUT.png NAME=RUN_DIR [NAME=RUN_DIR ...]

Reads each run's metrics.csv with `zeroforge.analysis.runs.load_run`. The curves are the
losses against the data's labels (`val_policy_loss`, `val_accuracy` on held-out files; thin
lines: `policy_loss` on the training batches), the same scale with and without a teacher.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zeroforge.analysis.runs import load_run  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not all("=" in arg for arg in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 1
    out = Path(argv[0])
    runs = [load_run(path, name) for name, path in (arg.split("=", 1) for arg in argv[1:])]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110)
    for index, run in enumerate(runs):
        color = f"C{index}"
        if run.column("train", "policy_loss") is not None:
            loss_ax.plot(
                run.train["step"], run.train["policy_loss"], color=color, lw=0.8, alpha=0.35
            )
        style = {"color": color, "marker": "o", "ms": 3, "lw": 1.8, "label": run.name}
        loss_ax.plot(run.val["step"], run.val["val_policy_loss"], **style)
        acc_ax.plot(run.val["step"], run.val["val_accuracy"], **style)
    loss_ax.set_title("held-out policy loss (thin: training batches, vs data)")
    loss_ax.set_ylabel("cross-entropy vs GNU Go's move (nats)")
    acc_ax.set_title("held-out top-1 accuracy (GNU Go's move)")
    acc_ax.set_ylabel("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = out.with_name(f".{out.stem}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
