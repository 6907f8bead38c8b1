"""Training runs side by side: load run directories' metrics.csv, summarise, plot loss curves.

A run directory is what `zeroforge train` leaves (`train/callbacks.py`): `metrics.csv` with one
row per logging step (training columns: loss, accuracy, lr, samples_per_s, ...) and one per
validation run (val_* columns), and `config.yaml` (the composed config). Only `step` is required;
any other column may be missing or empty (older runs, validation switched off).

Wall time: metrics.csv has no clock column. Each training row's samples_per_s is
(samples since the previous row) / (seconds since the previous row, validation included), so
summing (delta samples) / samples_per_s row by row gives the seconds since the fit started. A
`wall_s` column, where present, is used instead.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zeroforge.atomic import atomic_open

METRICS_FILE = "metrics.csv"
CONFIG_FILE = "config.yaml"
TRAIN_LOSS, VAL_LOSS, VAL_ACCURACY = "loss", "val_loss", "val_accuracy"


class RunError(ValueError):
    """A run directory that cannot be read; the message names the file and line."""


@dataclass
class Run:
    name: str
    path: Path
    train: dict[str, np.ndarray]  # rows with a training loss; NaN where a value is missing
    val: dict[str, np.ndarray]  # rows with a validation loss
    config: dict[str, Any] = field(default_factory=dict)

    def column(self, part: str, name: str) -> np.ndarray | None:
        table = self.train if part == "train" else self.val
        values = table.get(name)
        return None if values is None or np.isnan(values).all() else values


def _number(path: Path, line: int, column: str, text: str) -> float:
    if text is None or text.strip() == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise RunError(f"{path}: line {line}: column {column!r}: not a number: {text!r}") from None


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, float]]]:
    try:
        handle = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise RunError(
            f"{path}: no such file (is this a `zeroforge train` run directory?)"
        ) from None
    with handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        if "step" not in columns:
            raise RunError(f"{path}: line 1: no `step` column (columns: {columns})")
        rows = [
            {
                key: _number(path, reader.line_num, key, value)
                for key, value in row.items()
                if key is not None
            }
            for row in reader
        ]
    return columns, rows


def _table(rows: list[dict[str, float]], columns: list[str]) -> dict[str, np.ndarray]:
    return {c: np.array([r.get(c, math.nan) for r in rows], dtype=np.float64) for c in columns}


def _wall_seconds(train: dict[str, np.ndarray]) -> np.ndarray:
    if "wall_s" in train and not np.isnan(train["wall_s"]).any():
        return train["wall_s"]
    samples, rate = train.get("samples"), train.get("samples_per_s")
    if samples is None or rate is None:
        return np.full(len(train["step"]), math.nan)
    delta = np.diff(samples, prepend=0.0)
    return np.cumsum(np.where(rate > 0, delta / rate, math.nan))


def load_run(path: str | Path, name: str | None = None) -> Run:
    """Read one run directory (or a metrics.csv path directly)."""
    path = Path(path)
    run_dir = path.parent if path.name == METRICS_FILE else path
    columns, rows = _read_rows(run_dir / METRICS_FILE)
    is_train = [not math.isnan(r.get(TRAIN_LOSS, math.nan)) for r in rows]
    train = _table([r for r, t in zip(rows, is_train, strict=True) if t], columns)
    val = _table([r for r in rows if not math.isnan(r.get(VAL_LOSS, math.nan))], columns)
    train["wall_s"] = _wall_seconds(train)
    known = ~np.isnan(train["wall_s"])
    val["wall_s"] = (
        np.interp(val["step"], train["step"][known], train["wall_s"][known])
        if known.any() and len(val["step"])
        else np.full(len(val["step"]), math.nan)
    )
    return Run(name or run_dir.name, run_dir, train, val, _read_config(run_dir / CONFIG_FILE))


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunError(f"{path}: not valid YAML: {exc}") from None
    return config if isinstance(config, dict) else {}


def parameter_count(config: dict[str, Any]) -> int | None:
    """Trainable parameters of the run's network, rebuilt from its config (None if unknown)."""
    network = config.get("network")
    if not isinstance(network, dict):
        return None
    from zeroforge.nn.checkpoint import build_network

    try:
        net = build_network(network)
    except (KeyError, ValueError, TypeError):
        return None
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def _network_label(config: dict[str, Any]) -> str:
    network = config.get("network") or {}
    if "blocks" not in network:
        return "?"
    label = f"{network['blocks']}x{network['filters']} {network.get('norm', 'bn')}"
    activation = network.get("activation")
    return f"{label} {activation}" if activation and activation != "relu" else label


def summarize(run: Run) -> dict[str, Any]:
    """One row of the comparison table (None where the run has no such number)."""
    val_loss, steps = run.column("val", VAL_LOSS), run.train["step"]
    rates = run.column("train", "samples_per_s")
    wall = run.column("train", "wall_s")
    best = int(np.nanargmin(val_loss)) if val_loss is not None else None
    accuracy = run.column("val", VAL_ACCURACY)
    policy, value = run.column("val", "val_policy_loss"), run.column("val", "val_value_mse")
    return {
        "run": run.name,
        "network": _network_label(run.config),
        "agc": (run.config.get("optim") or {}).get("agc_clip"),
        "params": parameter_count(run.config),
        "steps": int(steps[-1]) if len(steps) else None,
        "best_val_loss": float(val_loss[best]) if best is not None else None,
        "best_step": int(run.val["step"][best]) if best is not None else None,
        "final_val_loss": float(val_loss[-1]) if val_loss is not None else None,
        "best_val_policy": float(np.nanmin(policy)) if policy is not None else None,
        "final_val_policy": float(policy[-1]) if policy is not None else None,
        "final_val_value": float(value[-1]) if value is not None else None,
        "final_val_accuracy": float(accuracy[-1]) if accuracy is not None else None,
        "final_train_loss": float(run.train[TRAIN_LOSS][-1]) if len(steps) else None,
        # the first interval includes start-up (data loader, compilation): leave it out
        "samples_per_s": float(np.nanmean(rates[1:] if len(rates) > 1 else rates))
        if rates is not None
        else None,
        "wall_s": float(wall[-1]) if wall is not None else None,
    }


TABLE_COLUMNS = (
    ("run", "run", "{}"),
    ("network", "network", "{}"),
    ("agc", "AGC", "{}"),
    ("params", "params", "{:,}"),
    ("steps", "steps", "{}"),
    ("best_val_loss", "best val loss", "{:.4f}"),
    ("best_step", "at step", "{}"),
    ("final_val_loss", "final val loss", "{:.4f}"),
    ("best_val_policy", "best val policy", "{:.4f}"),
    ("final_val_policy", "final val policy", "{:.4f}"),
    ("final_val_value", "final val value MSE", "{:.4f}"),
    ("final_val_accuracy", "final val acc", "{:.3f}"),
    ("final_train_loss", "final train loss", "{:.4f}"),
    ("wall_s", "wall s", "{:.0f}"),
    ("samples_per_s", "samples/s", "{:.0f}"),
)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The summaries as a Markdown table (`-` where a run has no such number)."""
    header = "| " + " | ".join(title for _, title, _ in TABLE_COLUMNS) + " |"
    lines = [header, "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|"]
    for row in rows:
        cells = [
            "-" if row.get(key) is None else fmt.format(row[key]) for key, _, fmt in TABLE_COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Panels of the loss figures: (training column, validation column, title); the first panel's
# title is the Go loss's, CHESS_LOSS_TITLE when no run has a policy (an NNUE run)
CHESS_LOSS_TITLE = "loss (nnue-pytorch's: lambda blend of score and result)"
PANELS = (
    (TRAIN_LOSS, VAL_LOSS, "loss (policy + value_weight * value MSE; training + L2)"),
    ("policy_loss", "val_policy_loss", "policy cross-entropy"),
    ("value_mse", "val_value_mse", "value MSE"),
)


def plot_losses(runs: list[Run], x: str, path: Path) -> None:
    """PNG of the PANELS per run, training (thin) and validation (markers), against `step` or
    `wall_s`; a panel no run has data for is left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        p
        for p in PANELS
        if any(
            r.column("train", p[0]) is not None or r.column("val", p[1]) is not None for r in runs
        )
    ]
    if len(panels) == 1 and panels[0][0] == TRAIN_LOSS:
        panels = [(TRAIN_LOSS, VAL_LOSS, CHESS_LOSS_TITLE)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), dpi=100, squeeze=False)
    for ax, (train_column, val_column, title) in zip(axes[0], panels, strict=True):
        for index, run in enumerate(runs):
            _plot_run(ax, run, x, train_column, val_column, f"C{index}")
        ax.set_title(title)
        ax.set_xlabel("step" if x == "step" else "wall time (s)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    columns = max(1, min(len(labels), 2 * len(panels)))
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8)
    rows = -(-len(labels) // columns)
    fig.tight_layout(rect=(0, min(0.4, 0.02 + 0.045 * rows), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)


def _plot_run(ax, run: Run, x: str, train_column: str, val_column: str, color: str) -> None:
    train, val = run.column("train", train_column), run.column("val", val_column)
    if train is not None:
        ax.plot(run.train[x], train, color=color, alpha=0.4, lw=1, label=f"{run.name} train")
    if val is not None:
        ax.plot(run.val[x], val, color=color, marker="o", lw=2, label=f"{run.name} validation")
