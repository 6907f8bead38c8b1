"""Stockfish NNUE network files (`.nnue`), read and write.

Two architectures, told apart by the header's version and hash (all integers little-endian):

    header      uint32 version, uint32 hash (= transformer hash ^ network hash),
                uint32 n, n bytes of description text (UTF-8)
    transformer uint32 hash (= feature-set hash ^ 2 * half_dims),
                int16 biases[half_dims], int16 weights[features][half_dims] (feature-major),
                SFNNv5 only: int32 psqt_weights[features][8]
    stacks      `stacks` times: uint32 hash (network hash), then per affine layer
                int32 biases[out], int8 weights[out][padded_in] (row-major, padded_in = in
                rounded up to a multiple of 32); nothing may follow (Stockfish rejects it)

* HalfKP 256x2-32-32 (Stockfish 12-13): version 0x7AF32F16, 41,024 features = 64 king squares
  x 641 (slot 0 of each block unused: 1 + 10 piece planes x 64), half_dims 256; one stack of
  layers 512->32, 32->32, 32->1.
* SFNNv5 HalfKAv2_hm (Stockfish 15.1): version 0x7AF32F20, 22,528 features = 32 king buckets x
  704 (11 piece planes x 64, both kings share a plane), half_dims 1024, 8 PSQT buckets; 8 stacks of
  layers 1024->16, 30(padded 32)->32, 32->1. Transformer unit j is multiplied with unit j+512.
* Stockfish 16 and later write the transformer as LEB128 blocks, each preceded by the ASCII magic
  `COMPRESSED_LEB128` and a uint32 byte count; such files are refused with a message naming it.

Quantisation (docs/ENGINES.md#nnue-files): transformer weights/biases x127, PSQT x9600, hidden weights x64, hidden
biases x8128, output weight x(600*16/127), output bias x9600. Hashes are computed here the way
Stockfish computes them (affine: 0xCC03DAE4 + out ^ rotate; clipped ReLU: + 0x538D24C7) and
checked on reading, so a file of an unknown architecture is refused instead of misread.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_write_bytes
from zeroforge.chess.nnue_arch import (
    ARCHS,
    Arch,
)

LEB128_MAGIC = b"COMPRESSED_LEB128"
PADDING = 32  # affine inputs are padded to a multiple of 32 (MaxSimdWidth)


class NnueFormatError(ValueError):
    """A file that is not a readable NNUE net; the message names the file."""


def padded(n: int) -> int:
    return (n + PADDING - 1) // PADDING * PADDING


@dataclass
class Layer:
    biases: np.ndarray  # int32 [out]
    weights: np.ndarray  # int8 [out, padded(in)]


@dataclass
class NnueNet:
    arch: Arch
    description: str
    ft_biases: np.ndarray  # int16 [half_dims]
    ft_weights: np.ndarray  # int16 [features, half_dims]
    psqt_weights: np.ndarray  # int32 [features, psqt_buckets] (no columns for HalfKP)
    stacks: list[list[Layer]] = field(default_factory=list)


def _arch_for(version: int, header_hash: int, path: Path) -> Arch:
    for arch in ARCHS:
        if arch.version == version and arch.header_hash == header_hash:
            return arch
    known = ", ".join(f"{a.name} (0x{a.version:08X}/0x{a.header_hash:08X})" for a in ARCHS)
    raise NnueFormatError(
        f"{path}: unknown NNUE architecture: version 0x{version:08X}, hash 0x{header_hash:08X};"
        f" readable: {known}"
    )


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.pos + size > len(self.data):
            raise NnueFormatError(
                f"{self.path}: truncated at byte {self.pos} reading {what} "
                f"({size} bytes wanted, {len(self.data) - self.pos} left)"
            )
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return out

    def uint32(self, what: str) -> int:
        return int(self.array("<u4", 1, what)[0])

    def refuse_leb128(self) -> None:
        """Stockfish 16+ put the magic right after the transformer hash."""
        at = self.data.find(LEB128_MAGIC, self.pos, self.pos + 4 + len(LEB128_MAGIC))
        if at >= 0:
            raise NnueFormatError(
                f"{self.path}: LEB128-compressed NNUE net (Stockfish 16 or later: magic "
                f"{LEB128_MAGIC.decode()!r} at byte {at}); only uncompressed HalfKP and "
                "SFNNv5 nets (Stockfish 12-15.1) are supported"
            )

    def expect_hash(self, expected: int, what: str) -> None:
        at = self.pos
        found = self.uint32(what)
        if found != expected:
            raise NnueFormatError(
                f"{self.path}: {what} hash 0x{found:08X} at byte {at}, expected 0x{expected:08X}"
            )


def read_nnue(path: str | os.PathLike) -> NnueNet:
    """Parse a .nnue file; arrays are read-only views of the file's bytes."""
    path = Path(path)
    data = path.read_bytes()
    reader = _Reader(data, path)
    version, header_hash, length = (reader.uint32(w) for w in ("version", "hash", "length"))
    raw = reader.array("u1", length, "description").tobytes()
    description = raw.decode("utf-8", errors="replace")
    reader.refuse_leb128()
    arch = _arch_for(version, header_hash, path)
    reader.expect_hash(arch.ft_hash, "feature transformer")
    ft_biases = reader.array("<i2", arch.half_dims, "transformer biases")
    ft_weights = reader.array("<i2", arch.features * arch.half_dims, "transformer weights")
    psqt = reader.array("<i4", arch.features * arch.psqt_buckets, "PSQT weights")
    stacks = []
    for s in range(arch.stacks):
        reader.expect_hash(arch.network_hash, f"layer stack {s}")
        stack = []
        for n, (fan_in, out) in enumerate(arch.layers):
            biases = reader.array("<i4", out, f"stack {s} layer {n} biases")
            weights = reader.array("i1", out * padded(fan_in), f"stack {s} layer {n} weights")
            stack.append(Layer(biases, weights.reshape(out, padded(fan_in))))
        stacks.append(stack)
    if reader.pos != len(data):
        raise NnueFormatError(
            f"{path}: {len(data) - reader.pos} trailing bytes after byte {reader.pos}"
            " (Stockfish rejects such a file)"
        )
    return NnueNet(
        arch,
        description,
        ft_biases,
        ft_weights.reshape(arch.features, arch.half_dims),
        psqt.reshape(arch.features, arch.psqt_buckets),
        stacks,
    )


def shown_description(description: str, limit: int = 200) -> str:
    """A description as one line for a report: control characters escaped, at most `limit`
    characters (a file's description may hold any bytes)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in description)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_shapes(net: NnueNet) -> None:
    arch = net.arch
    expected = {
        "ft_biases": (net.ft_biases, (arch.half_dims,)),
        "ft_weights": (net.ft_weights, (arch.features, arch.half_dims)),
        "psqt_weights": (net.psqt_weights, (arch.features, arch.psqt_buckets)),
    }
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}, {arch.name} needs {shape}")
    if len(net.stacks) != arch.stacks:
        raise ValueError(f"{len(net.stacks)} layer stacks, {arch.name} needs {arch.stacks}")
    for s, stack in enumerate(net.stacks):
        for n, (layer, (fan_in, out)) in enumerate(zip(stack, arch.layers, strict=True)):
            if layer.biases.shape != (out,) or layer.weights.shape != (out, padded(fan_in)):
                raise ValueError(f"stack {s} layer {n}: shapes do not fit {arch.name}")


def nnue_bytes(net: NnueNet) -> bytes:
    """The file image of `net` (the inverse of read_nnue)."""
    _check_shapes(net)
    arch = net.arch
    text = net.description.encode("utf-8")
    parts = [struct.pack("<III", arch.version, arch.header_hash, len(text)), text]
    parts += [struct.pack("<I", arch.ft_hash), net.ft_biases.astype("<i2").tobytes()]
    parts += [net.ft_weights.astype("<i2").tobytes(), net.psqt_weights.astype("<i4").tobytes()]
    for stack in net.stacks:
        parts.append(struct.pack("<I", arch.network_hash))
        for layer in stack:
            parts += [layer.biases.astype("<i4").tobytes(), layer.weights.astype("i1").tobytes()]
    return b"".join(parts)


def write_nnue(net: NnueNet, path: str | os.PathLike) -> None:
    """Write `net` atomically (temporary file in the same directory, then rename)."""
    atomic_write_bytes(path, nnue_bytes(net))


def random_net(arch: Arch, seed: int = 0, description: str = "random") -> NnueNet:
    """A net of `arch` with random weights in the ranges trained nets use (for tests, examples)."""
    rng = np.random.default_rng(seed)
    stacks = []
    for _ in range(arch.stacks):
        stack = []
        for fan_in, out in arch.layers:
            weights = np.zeros((out, padded(fan_in)), dtype=np.int8)
            weights[:, :fan_in] = rng.integers(-40, 41, size=(out, fan_in))
            stack.append(Layer(rng.integers(-2000, 2001, size=out).astype(np.int32), weights))
        stacks.append(stack)
    return NnueNet(
        arch,
        description,
        rng.integers(-60, 200, size=arch.half_dims).astype(np.int16),
        rng.integers(-40, 41, size=(arch.features, arch.half_dims)).astype(np.int16),
        rng.integers(-3000, 3001, size=(arch.features, arch.psqt_buckets)).astype(np.int32),
        stacks,
    )
