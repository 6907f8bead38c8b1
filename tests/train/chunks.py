"""Small chunk directories for the training tests (real chunk files, written by formats.chunks)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_positions
from zeroforge.formats.chunks import write_chunk


def write_chunks(directory: Path, files: int, positions: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        write_chunk(directory / f"train.{index}.gz", make_positions(positions, seed=index))
    return directory


def train_args(chunks: Path, out_dir: Path, steps: int, *extra: str) -> list[str]:
    """`zeroforge train` overrides for a fast, deterministic run on a 2x16 net; `extra` adds
    overrides or replaces these defaults (Hydra refuses a key given twice)."""
    defaults = [
        "network=2x16",
        f"data.train={chunks}",
        "data.batch_size=32",
        "data.sample_rate=1.0",
        "data.shuffle_buffer=256",
        "data.workers=0",
        "data.val_fraction=0",
        "train.threads=1",
        "train.precision=32",
        "train.progress=false",
        f"train.max_steps={steps}",
        "train.log_every=1",
        "train.val_every=0",
        f"out_dir={out_dir}",
    ]
    given = {arg.split("=", 1)[0] for arg in extra}
    return [arg for arg in defaults if arg.split("=", 1)[0] not in given] + list(extra)
