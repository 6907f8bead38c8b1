"""The training recipe: a composed config in, a run directory with checkpoints and nets out.

`run(cfg)` reads top to bottom: resolve the hardware-dependent defaults, continue the run that
`out_dir` already holds (a rerun of the same command), write `config.yaml`, build the module, the data and the callbacks, and hand them to Lightning's Trainer.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_info
from omegaconf import DictConfig, OmegaConf, open_dict

from zeroforge.atomic import atomic_write_text
from zeroforge.train.averaging import WeightAveraging
from zeroforge.train.callbacks import AtomicCheckpointIO, MetricsCSV, NetExport
from zeroforge.train.console import progress_callbacks, progress_mode, quiet_third_party
from zeroforge.train.datamodule import TrainDataModule
from zeroforge.train.init import load_weights, network_from_file
from zeroforge.train.module import TrainModule

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 arithmetic
# glibc's mallopt parameters and the values `keep_freed_memory` sets (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest: blocks under 32 MB come from the heap
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GB of freed heap instead of handing it back


def keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for the next allocation instead of returning it to the
    system: a training step allocates the same few-MB buffers every step, and by default each
    comes back as fresh pages that fault in one by one (a third of the lazy NNUE step's CPU
    time when this was added). No-op where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX-512 BF16 or AMX), where bf16 pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def uses_gpu(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def resolve_precision(precision: Any, accelerator: str) -> str:
    """`auto` -> bf16-mixed where the hardware has bf16, else 16-mixed (GPU) or 32 (CPU)."""
    if str(precision) != "auto":
        return str(precision)
    if uses_gpu(accelerator):
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if cpu_has_bf16() else "32"


def resolve_channels_last(channels_last: Any, precision: str, accelerator: str) -> bool:
    """`auto` -> on for GPUs and for bf16 on the CPU (oneDNN's fast path), off otherwise."""
    if str(channels_last) != "auto":
        return bool(channels_last)
    return uses_gpu(accelerator) or precision.startswith("bf16")


def module_config(cfg: DictConfig, channels_last: bool) -> dict[str, Any]:
    """The sections the LightningModule needs, as plain data (saved as its hyperparameters)."""
    sections = OmegaConf.to_container(cfg, resolve=True)
    wanted = ("network", "optim", "schedule", "init", "loss", "seed", "value", "kd")
    config = {key: sections[key] for key in wanted if key in sections}
    config["max_steps"] = int(cfg.train.max_steps)
    config["channels_last"] = channels_last
    return config


def build_callbacks(cfg: DictConfig, out_dir: Path) -> list[pl.Callback]:
    train = cfg.train
    callbacks: list[pl.Callback] = [
        ModelCheckpoint(
            dirpath=out_dir / "checkpoints",
            filename="step-{step:07d}",
            monitor="step",
            mode="max",
            save_top_k=int(train.keep_checkpoints),
            save_last=True,
            every_n_train_steps=int(train.checkpoint_every) or None,
            auto_insert_metric_name=False,
        ),
        MetricsCSV(out_dir / "metrics.csv", int(train.log_every)),
    ]
    if cfg.averaging.kind != "none":
        callbacks.append(WeightAveraging(cfg.averaging, int(train.max_steps)))
    callbacks.append(NetExport(out_dir / "nets", int(train.export_every)))
    callbacks += progress_callbacks(progress_mode(train.progress), int(train.print_every))
    return callbacks


def build_trainer(
    cfg: DictConfig, out_dir: Path, precision: str, extra_callbacks: Sequence[pl.Callback] = ()
) -> pl.Trainer:
    train = cfg.train
    val_every = int(train.val_every)
    # A run from existing weights validates them first: the loss it starts from, at step 0.
    val_first = bool(cfg.get("init_from")) and not cfg.resume and val_every > 0
    return pl.Trainer(
        default_root_dir=out_dir,
        max_steps=int(train.max_steps),
        max_epochs=-1,
        precision=precision,
        accelerator=train.accelerator,
        devices=train.devices,
        strategy=train.strategy,
        deterministic=bool(train.deterministic),
        callbacks=[*build_callbacks(cfg, out_dir), *extra_callbacks],
        logger=TensorBoardLogger(out_dir, name="tb", version=""),
        log_every_n_steps=int(train.log_every),
        val_check_interval=val_every if val_every > 0 else None,
        check_val_every_n_epoch=None,
        limit_val_batches=int(cfg.data.val_batches) if val_every > 0 else 0,
        num_sanity_val_steps=int(cfg.data.val_batches) if val_first else 0,
        enable_progress_bar=progress_mode(train.progress) == "bar",
        enable_model_summary=False,
        use_distributed_sampler=False,  # the dataset shards files across ranks itself
        plugins=[AtomicCheckpointIO()],
    )


def write_config(cfg: DictConfig, out_dir: Path) -> None:
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))


# Settings a rerun may change and still continue the same run: how long it trains, how it
# reports, how many processes read the data. Anything else would make it another run.
RERUN_MAY_CHANGE = (
    "train.max_steps",
    "train.progress",
    "train.print_every",
    "train.threads",
    "data.workers",
    "resume",
)


def flat_config(config: Any, prefix: str = "") -> dict[str, Any]:
    """A config as {dotted key: value}; lists are values."""
    if not isinstance(config, dict):
        return {prefix[:-1]: config}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        flat.update(flat_config(value, f"{prefix}{key}."))
    return flat


def earlier_run_checkpoint(cfg: DictConfig, out_dir: Path) -> Path | None:
    """The checkpoint to continue from when `out_dir` holds a run of this same config (its
    `config.yaml`) that a rerun of the command should continue, as `resume=` does, rather than
    start over; None for a fresh out_dir or a run that never reached a checkpoint. A
    different config there is refused with the keys that differ (ValueError)."""
    saved_path = out_dir / "config.yaml"
    if cfg.resume or not saved_path.exists():
        return None
    saved = flat_config(OmegaConf.to_container(OmegaConf.load(saved_path)))
    wanted = flat_config(OmegaConf.to_container(cfg, resolve=True))
    differ = sorted(
        key
        for key in saved.keys() | wanted.keys()
        if saved.get(key) != wanted.get(key) and key not in RERUN_MAY_CHANGE
    )
    last = out_dir / "checkpoints" / "last.ckpt"
    if differ:
        shown = ", ".join(
            f"{key}={saved.get(key)} there, {wanted.get(key)} now" for key in differ[:5]
        )
        more = f" (and {len(differ) - 5} more)" if len(differ) > 5 else ""
        hint = f"resume={last} to continue it with the new settings, or " if last.exists() else ""
        raise ValueError(
            f"{out_dir} holds a run with another config ({shown}{more}): give {hint}a fresh out_dir"
        )
    if not last.exists():
        rank_zero_info(f"{out_dir} holds this run, without a checkpoint yet: starting over")
        return None
    return last


def run(cfg: DictConfig, extra_callbacks: Sequence[pl.Callback] = ()) -> Path | None:
    """Train as `cfg` says (plus any extra callbacks); returns the final net's path (Leela Zero
    weights or .nnue; None in the other processes of a multi-process run)."""
    quiet_third_party()
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.train.threads:
        torch.set_num_threads(int(cfg.train.threads))
    keep_freed_memory()
    precision = resolve_precision(cfg.train.precision, cfg.train.accelerator)
    channels_last = resolve_channels_last(cfg.train.channels_last, precision, cfg.train.accelerator)
    OmegaConf.update(cfg, "train.precision", precision)
    OmegaConf.update(cfg, "train.channels_last", channels_last)
    initial = None
    if cfg.get("init_from"):
        with open_dict(cfg):
            initial, note = network_from_file(str(cfg.init_from), cfg.network)
        rank_zero_info(note)
    earlier = earlier_run_checkpoint(cfg, out_dir)
    if earlier is not None:
        OmegaConf.update(cfg, "resume", str(earlier))
        rank_zero_info(f"{out_dir} holds this run: resuming from {earlier}")
    write_config(cfg, out_dir)
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)  # the run's data, resolved once
    module = TrainModule(module_config(cfg, channels_last), data_paths=data_cfg["train"])
    if initial is not None:
        load_weights(module.net, initial, str(cfg.init_from))
    data = TrainDataModule(data_cfg, int(cfg.seed), module.game)
    trainer = build_trainer(cfg, out_dir, precision, extra_callbacks)
    trainer.fit(module, datamodule=data, ckpt_path=os.fspath(cfg.resume) if cfg.resume else None)
    return out_dir / "nets" / module.game.final_name if trainer.is_global_zero else None
