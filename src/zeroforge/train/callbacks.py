"""What a training run leaves in its output directory, written by Lightning callbacks/plugins.

- `AtomicCheckpointIO`: checkpoints go to a temporary file in the same directory, then
  `os.replace`, so `checkpoints/` never holds a half-written file; loading is weights-only,
  names a damaged file and refuses a checkpoint `format_version` it cannot read
  (nn/checkpoint.py `read_checkpoint`).
- `MetricsCSV`: `metrics.csv`, one row per `log_every` steps (the game's terms, learning rate,
  samples/s; columns: `metrics_columns`) and one per validation run, appended (flushed and fsynced: a crash loses at most
  the row being written, which a resumed run drops with the rows past its checkpoint).
- `NetExport`: the engine's file in `nets/` every `export_every` steps and at the end, as the
  game writes it (Go: Leela Zero weights `nets/final.txt.gz`; chess: `nets/final.nnue`), plus
  `nets/final-<ema|swa>.*` for the averaged copy.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import TQDMProgressBar

from zeroforge.atomic import atomic_open, atomic_write_text
from zeroforge.nn.checkpoint import read_checkpoint
from zeroforge.train.averaging import WeightAveraging
from zeroforge.train.games import Game

RUN_COLUMNS = ("step", "epoch", "samples")
COMMON_TERMS = ("l2", "lr", "samples_per_s")  # of every run (train/module.py and MetricsCSV)


def metrics_columns(game: Game) -> tuple[str, ...]:
    """metrics.csv's columns in a run of `game`: the step, the terms the game logs in training
    (`game.train_terms`), the common ones, then its validation terms (`val_<term>`)."""
    val = tuple(f"val_{term}" for term in game.val_terms)
    return (*RUN_COLUMNS, *game.train_terms, *COMMON_TERMS, *val)


def data_epoch(trainer: pl.Trainer) -> int:
    """Passes over the training data so far: the data stream's epoch (train/datamodule.py),
    since Lightning sees one endless epoch."""
    consumed = getattr(trainer.datamodule, "consumed", None)
    return consumed[0] if consumed else trainer.current_epoch


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path) as handle:  # streamed: no second copy of the checkpoint in memory
            torch.save(checkpoint, handle)

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: Any = None):
        # weights only; a damaged file or an unknown format_version is a CheckpointError
        return read_checkpoint(path, map_location=map_location)


class MetricsCSV(pl.Callback):
    """metrics.csv in the run directory, append-only. A fresh run starts the file (header only);
    a resumed run keeps the whole rows up to the resumed step, in one atomic rewrite."""

    def __init__(self, path: Path, log_every: int):
        self.path, self.log_every = Path(path), max(1, log_every)
        self._clock: tuple[float, int] | None = None
        self._before_training: list[dict[str, Any]] = []  # a validation before training
        self.columns: tuple[str, ...] = RUN_COLUMNS  # the run's game's (on_train_start)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # (global_step is restored from a checkpoint by now, unlike in on_fit_start)
        self.columns = metrics_columns(pl_module.game)
        if trainer.is_global_zero:
            kept = self._rows_up_to(trainer.global_step) if trainer.global_step > 0 else []
            text = io.StringIO()
            writer = csv.DictWriter(
                text, fieldnames=self.columns, lineterminator="\n", extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(kept)
            writer.writerows(self._before_training)
            atomic_write_text(self.path, text.getvalue())
        self._clock = (time.perf_counter(), trainer.global_step)

    def _rows_up_to(self, step: int) -> list[dict[str, str]]:
        """The complete rows of an existing file up to `step` (a torn last line is dropped)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines(keepends=True)
        whole = [line for line in lines if line.endswith("\n")]
        rows = csv.DictReader(whole)
        return [r for r in rows if r.get("step", "").isdigit() and int(r["step"]) <= step]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if step % self.log_every != 0 or not trainer.is_global_zero:
            return
        now = time.perf_counter()
        batch_size = pl_module.game.batch_size(batch) * trainer.world_size
        start_time, start_step = self._clock
        rate = (step - start_step) * batch_size / max(now - start_time, 1e-9)
        self._clock = (now, step)
        metrics = trainer.callback_metrics
        row = {
            "step": step,
            "epoch": data_epoch(trainer),
            "samples": step * batch_size,
            "samples_per_s": f"{rate:.2f}",
        }
        for name in (*pl_module.game.train_terms, "l2", "lr"):
            if f"train/{name}" in metrics:
                row[name] = f"{float(metrics[f'train/{name}']):.6g}"
        self._append(row)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # (a run from init_from validates before training: the sanity check, kept as step 0)
        if not trainer.is_global_zero or (trainer.sanity_checking and trainer.global_step > 0):
            return
        metrics = trainer.callback_metrics
        row = {"step": trainer.global_step, "epoch": data_epoch(trainer)}
        for name in pl_module.game.val_terms:
            if f"val/{name}" in metrics:
                row[f"val_{name}"] = f"{float(metrics[f'val/{name}']):.6g}"
        if trainer.sanity_checking:  # before on_train_start, which starts the file
            self._before_training.append(row)
        else:
            self._append(row)

    def _append(self, row: dict[str, Any]) -> None:
        text = io.StringIO()
        csv.DictWriter(text, fieldnames=self.columns, lineterminator="\n").writerow(row)
        with open(self.path, "a", newline="") as handle:
            handle.write(text.getvalue())
            handle.flush()
            os.fsync(handle.fileno())


class NetExport(pl.Callback):
    """Exports the network (and its averaged copy) into `nets/` as the run's game writes it."""

    def __init__(self, nets_dir: Path, export_every: int):
        self.nets_dir, self.export_every = Path(nets_dir), export_every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if self.export_every > 0 and step % self.export_every == 0:
            self.export(trainer, pl_module, f"step-{step:07d}")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.export(trainer, pl_module, "final")

    def export(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stem: str) -> None:
        if not trainer.is_global_zero:
            return
        self.nets_dir.mkdir(parents=True, exist_ok=True)
        if pl_module.game.export(pl_module.net, self.nets_dir, stem) is None:
            return  # a net the engine cannot compute (the game warned once)
        for callback in trainer.callbacks:
            if isinstance(callback, WeightAveraging) and callback.averaged is not None:
                averaged = callback.averaged_net(pl_module)
                pl_module.game.export(averaged, self.nets_dir, f"{stem}-{callback.kind}")


class StepProgressBar(TQDMProgressBar):
    """Lightning's bar, counting optimiser steps towards max_steps: the data stream is one
    endless epoch (train/datamodule.py), so "batches of this epoch" would have no total."""

    @property
    def total_train_batches(self) -> int:
        return self.trainer.max_steps

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description("steps")
