"""Loading any net the analysis understands into one shape: named tensors plus the parsed net.

Three sources: Stockfish `.nnue` files (formats.nnue), Leela Zero weights files (formats.lzweights,
text or gzip) and our training checkpoints (convert.nets.load_any_net, exported to LZ rows).
NNUE tensors stay integers (their quantisation step in `scales`); LZ tensors are float32.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zeroforge.chess import nnue_arch
from zeroforge.formats import nnue
from zeroforge.formats.nnue import NnueNet, shown_description

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
GZIP_MAGIC = b"\x1f\x8b"


class NetLoadError(ValueError):
    """A file the analysis cannot read; the message names the file."""


@dataclass
class LZTensors:
    blocks: int
    filters: int
    tensors: dict[str, np.ndarray]  # row names of formats.lzweights.row_layout, reshaped


@dataclass
class LoadedNet:
    path: Path
    kind: str  # "nnue" or "lz"
    description: str
    tensors: dict[str, np.ndarray]
    scales: dict[str, float] = field(default_factory=dict)  # float value of one integer step
    nnue: NnueNet | None = None
    lz: LZTensors | None = None

    @property
    def label(self) -> str:
        return self.path.name


def nnue_tensors(net: NnueNet) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Named tensors of an NNUE net (padding columns of the hidden layers dropped)."""
    tensors = {"ft.biases": net.ft_biases, "ft.weights": net.ft_weights}
    scales = {"ft.biases": 1 / nnue_arch.FT_SCALE, "ft.weights": 1 / nnue_arch.FT_SCALE}
    if net.arch.psqt_buckets:
        tensors["ft.psqt"] = net.psqt_weights
        scales["ft.psqt"] = 1 / nnue_arch.PSQT_SCALE
    last = len(net.arch.layers) - 1
    for s, stack in enumerate(net.stacks):
        for n, (layer, (fan_in, _)) in enumerate(zip(stack, net.arch.layers, strict=True)):
            name = f"stack{s}.fc{n}"
            tensors[f"{name}.weights"] = layer.weights[:, :fan_in]
            tensors[f"{name}.biases"] = layer.biases
            out = n == last
            scales[f"{name}.weights"] = 1 / (
                nnue_arch.OUTPUT_WEIGHT_SCALE if out else nnue_arch.HIDDEN_WEIGHT_SCALE
            )
            scales[f"{name}.biases"] = 1 / (
                nnue_arch.OUTPUT_BIAS_SCALE if out else nnue_arch.HIDDEN_BIAS_SCALE
            )
    return tensors, scales


def lz_from_rows(rows: list[np.ndarray], blocks: int, filters: int) -> LZTensors:
    from zeroforge.formats.lzweights import row_layout

    layout = row_layout(blocks, filters)
    tensors = {
        spec.name: np.asarray(row, dtype=np.float32).reshape(spec.shape)
        for spec, row in zip(layout, rows, strict=True)
    }
    return LZTensors(blocks, filters, tensors)


def _is_nnue(path: Path, head: bytes) -> bool:
    if path.suffix == ".nnue":
        return True
    if len(head) < 4:
        return False
    return struct.unpack("<I", head[:4])[0] in {arch.version for arch in nnue_arch.ARCHS}


def _load_checkpoint(path: Path) -> LZTensors:
    try:
        from zeroforge.convert.nets import load_any_net
    except ImportError as err:
        raise NetLoadError(f"{path}: reading checkpoints needs zeroforge.nn.checkpoint") from err
    from zeroforge.convert.lzweights import net_to_rows

    try:
        model = load_any_net(path)
    except ValueError as err:  # WeightsError, CheckpointError
        raise NetLoadError(str(err)) from err
    return lz_from_rows(net_to_rows(model), model.blocks, model.filters)


def load_net(path: str | os.PathLike) -> LoadedNet:
    """Read an NNUE file, an LZ weights file (text or .gz) or a checkpoint, by its content."""
    path = Path(path)
    if not path.is_file():
        raise NetLoadError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(8)
    if _is_nnue(path, head):
        try:
            net = nnue.read_nnue(path)
        except nnue.NnueFormatError as err:
            raise NetLoadError(str(err)) from err
        tensors, scales = nnue_tensors(net)
        return LoadedNet(
            path,
            "nnue",
            f"{net.arch.name}: {shown_description(net.description)}",
            tensors,
            scales,
            nnue=net,
        )
    if path.suffix in CHECKPOINT_SUFFIXES:
        lz = _load_checkpoint(path)
        kind_text = "checkpoint"
    elif head.startswith(GZIP_MAGIC) or head[:1].isdigit():
        from zeroforge.formats.lzweights import WeightsError, read_weights

        try:
            weights = read_weights(path)
        except WeightsError as err:
            raise NetLoadError(str(err)) from err
        lz = lz_from_rows(weights.rows, weights.blocks, weights.filters)
        kind_text = "Leela Zero weights"
    else:
        raise NetLoadError(
            f"{path}: neither a Stockfish .nnue file, a Leela Zero weights file nor a checkpoint"
            f" ({', '.join(CHECKPOINT_SUFFIXES)})"
        )
    description = f"{kind_text}, {lz.blocks} blocks x {lz.filters} filters"
    return LoadedNet(path, "lz", description, lz.tensors, {}, lz=lz)
