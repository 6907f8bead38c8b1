"""The one home of "NET = a Leela Zero weights file, a Stockfish .nnue file or one of our
checkpoints": `load_any_net(path)` gives a network in eval mode from either
- a Leela Zero v1 weights file (`.txt`, `.gz`; `convert.lzweights`),
- a Stockfish 15.1 SFNNv5 `.nnue` file (dequantised exactly: `convert.nnue`), or
- one of our checkpoints (`nn.checkpoint`).
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from zeroforge.convert.lzweights import load_net
from zeroforge.convert.nnue import import_nnue
from zeroforge.nn.checkpoint import net_from_checkpoint, read_checkpoint

LZ_SUFFIXES = (".txt", ".gz")
NNUE_SUFFIX = ".nnue"
ZIP_MAGIC = b"PK"  # torch.save's zip container


def is_lz_weights(path: str | os.PathLike) -> bool:
    """By extension (`.txt`, `.gz`), else by content: a torch checkpoint is a zip file."""
    path = Path(path)
    if path.suffix in LZ_SUFFIXES:
        return True
    if path.suffix == NNUE_SUFFIX:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(2) != ZIP_MAGIC
    except OSError:
        return False


def load_any_net(path: str | os.PathLike) -> nn.Module:
    """A Leela Zero weights file or one of our checkpoints -> network in eval mode.

    Raises `formats.lzweights.WeightsError`, `formats.nnue.NnueFormatError` or
    `nn.checkpoint.CheckpointError` (all ValueError)."""
    if Path(path).suffix == NNUE_SUFFIX:
        return import_nnue(path).eval()
    if is_lz_weights(path):
        return load_net(path)
    return net_from_checkpoint(read_checkpoint(path), path)
