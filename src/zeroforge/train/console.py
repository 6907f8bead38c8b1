"""What a training run prints on the console: a progress bar on a terminal, plain lines elsewhere.

Under a pipe, a log file or CI a redrawn bar is hundreds of lines of noise, so `train.progress:
auto` (the default) shows Lightning's bar only when stdout is a terminal and otherwise prints one
line every `train.print_every` steps and one per validation run (`bar` and `none` force either;
`true`/`false` mean `bar`/`none`). Third-party advertising and a deprecation warning that is
Lightning's to fix are filtered out: the log should hold only what the run has to say.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from typing import Any

import lightning.pytorch as pl

from zeroforge.train.callbacks import StepProgressBar
from zeroforge.train.games import Game

PROGRESS_CHOICES = ("auto", "bar", "lines", "none")
# Messages of other packages that tell the user nothing about the run.
NOISE = ("💡 Tip:", "litlogger")
PYTREE_WARNING = r"`isinstance\(treespec, LeafSpec\)` is deprecated"  # Lightning's _pytree.py
RANK_ZERO_LOGGERS = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in NOISE)


def quiet_third_party() -> None:
    """No third-party tips, no warnings about Lightning's own use of torch internals."""
    warnings.filterwarnings("ignore", message=PYTREE_WARNING, category=FutureWarning)
    for name in RANK_ZERO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())


def progress_mode(setting: Any, stream=None) -> str:
    """`train.progress` -> bar | lines | none (auto: a bar only on a terminal)."""
    value = {True: "bar", False: "none"}.get(setting, str(setting))
    if value not in PROGRESS_CHOICES:
        raise ValueError(f"train.progress: {setting!r} is not one of {PROGRESS_CHOICES}")
    if value == "auto":
        stream = sys.stdout if stream is None else stream
        return "bar" if stream.isatty() else "lines"
    return value


def progress_callbacks(mode: str, print_every: int) -> list[pl.Callback]:
    if mode == "bar":
        return [StepProgressBar()]
    if mode == "lines":
        return [ProgressLines(print_every)]
    return []


def _number(metrics: dict, key: str) -> float | None:
    return float(metrics[key]) if key in metrics else None


def _terms(metrics: dict, stage: str, game: Game) -> str:
    """The parts of a loss worth a glance, as the game names them (`game.glance`): e.g.
    (policy P, value V) for Go, (cp_mae C) for chess."""
    shown = [
        f"{label} {float(metrics[f'{stage}/{term}']):{spec}}"
        for term, (label, spec) in game.glance.items()
        if f"{stage}/{term}" in metrics
    ]
    return f" ({', '.join(shown)})" if shown else ""


class ProgressLines(pl.Callback):
    """One plain line every `every` steps and one per validation run, on stdout."""

    def __init__(self, every: int):
        self.every = max(1, every)
        self._start = self._last = (0.0, 0)  # (time, step) at the start, at the last line

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = self._last = (time.perf_counter(), trainer.global_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if step % self.every != 0 and step != trainer.max_steps:
            return
        metrics = trainer.callback_metrics
        parts = [f"step {step}/{trainer.max_steps}"]
        loss = _number(metrics, "train/loss")
        if loss is not None:
            parts.append(f"loss {loss:.4f}{_terms(metrics, 'train', pl_module.game)}")
        accuracy, lr = _number(metrics, "train/accuracy"), _number(metrics, "train/lr")
        if accuracy is not None:
            parts.append(f"accuracy {accuracy:.3f}")
        if lr is not None:
            parts.append(f"lr {lr:.3g}")
        now, (last_time, last_step) = time.perf_counter(), self._last
        samples = (step - last_step) * pl_module.game.batch_size(batch) * trainer.world_size
        parts.append(f"{samples / max(now - last_time, 1e-9):.0f} samples/s")
        parts.append(f"{now - self._start[0]:.0f} s")
        self._last = (now, step)
        self._print(trainer, "  ".join(parts))

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = trainer.callback_metrics
        loss = _number(metrics, "val/loss")
        if loss is None:
            return
        accuracy = _number(metrics, "val/accuracy")
        when = "before training" if trainer.sanity_checking else f"step {trainer.global_step}"
        line = f"{when}  validation loss {loss:.4f}{_terms(metrics, 'val', pl_module.game)}"
        self._print(trainer, line + (f"  accuracy {accuracy:.3f}" if accuracy is not None else ""))

    @staticmethod
    def _print(trainer: pl.Trainer, line: str) -> None:
        if trainer.is_global_zero:
            print(line, flush=True)  # flushed: in order with stderr under a pipe
