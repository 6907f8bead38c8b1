"""Leela Zero weights files, version 1: read, validate and write.

Layout (text; the same text gzipped when the name ends in `.gz`; leelaz loads both):

    line 1          `1` (FORMAT_VERSION; `2` is ELF's black-perspective value, refused here)
    then one line per tensor, space-separated floats, in this order (F = filters):
      input         conv w [F,18,3,3], conv b [F], bn mean [F], bn var [F]
      per block     conv1 w [F,F,3,3], b [F], bn1 mean [F], var [F],
                    conv2 w [F,F,3,3], b [F], bn2 mean [F], var [F]
      policy head   conv w [2,F,1,1], b [2], bn mean [2], var [2], fc w [362,722], fc b [362]
      value head    conv w [1,F,1,1], b [1], bn mean [1], var [1],
                    fc1 w [256,361], fc1 b [256], fc2 w [1,256], fc2 b [1]
    lines = 1 + 4 + 8 * blocks + 14

The engine computes BN(x) = (x + conv_b - mean) / sqrt(var + 1e-5) with no gamma and no beta
(how a torch network's batch norm becomes these rows: `convert.lzweights`). leelaz itself
checks almost nothing (a row of the wrong length or a negative variance loads silently and plays
garbage), so `read_weights` checks every row. Rows are written by `formats.lzfloat.format_row`:
9 significant digits, so every float32 round-trips bit-exactly.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_open
from zeroforge.formats.lzfloat import format_row
from zeroforge.go.geometry import NUM_MOVES, NUM_POINTS
from zeroforge.go.planes import INPUT_PLANES

FORMAT_VERSION = 1  # Leela Zero's text format
ELF_VERSION = 2  # same layout, value head from black's view (ELF OpenGo conversions)
BN_EPS = 1e-5  # Network.cpp: the epsilon leelaz adds to every variance
POLICY_CHANNELS = 2
VALUE_CHANNELS = 1
VALUE_HIDDEN = 256
INPUT_ROWS = 4
ROWS_PER_BLOCK = 8
HEAD_ROWS = 14
GZIP_LEVEL = 1  # text of floats compresses little better at higher levels, and 5x slower


class WeightsError(ValueError):
    """A weights file that is not a valid Leela Zero v1 network; the message says where."""


@dataclass(frozen=True)
class RowSpec:
    name: str  # e.g. `tower.3.conv1.bn_var`
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def is_variance(self) -> bool:
        return self.name.endswith("bn_var")

    def describe(self) -> str:
        return f"{self.name} {list(self.shape)}"


def _conv_rows(prefix: str, cin: int, cout: int, kernel: int) -> list[RowSpec]:
    return [
        RowSpec(f"{prefix}.conv_w", (cout, cin, kernel, kernel)),
        RowSpec(f"{prefix}.conv_b", (cout,)),
        RowSpec(f"{prefix}.bn_mean", (cout,)),
        RowSpec(f"{prefix}.bn_var", (cout,)),
    ]


def row_layout(blocks: int, filters: int) -> list[RowSpec]:
    """The name and shape of every row (file order, version line excluded)."""
    rows = _conv_rows("input", INPUT_PLANES, filters, 3)
    for i in range(blocks):
        rows += _conv_rows(f"tower.{i}.conv1", filters, filters, 3)
        rows += _conv_rows(f"tower.{i}.conv2", filters, filters, 3)
    rows += _conv_rows("policy", filters, POLICY_CHANNELS, 1)
    rows += [
        RowSpec("policy.fc_w", (NUM_MOVES, POLICY_CHANNELS * NUM_POINTS)),
        RowSpec("policy.fc_b", (NUM_MOVES,)),
    ]
    rows += _conv_rows("value", filters, VALUE_CHANNELS, 1)
    rows += [
        RowSpec("value.fc1_w", (VALUE_HIDDEN, VALUE_CHANNELS * NUM_POINTS)),
        RowSpec("value.fc1_b", (VALUE_HIDDEN,)),
        RowSpec("value.fc2_w", (1, VALUE_HIDDEN)),
        RowSpec("value.fc2_b", (1,)),
    ]
    return rows


def parameter_count(blocks: int, filters: int) -> int:
    """Numbers stored in the file (running statistics included)."""
    return sum(spec.size for spec in row_layout(blocks, filters))


@dataclass
class LZWeights:
    blocks: int
    filters: int
    version: int
    rows: list[np.ndarray]  # float32, flat, file order

    def layout(self) -> list[RowSpec]:
        return row_layout(self.blocks, self.filters)

    def row_name(self, index: int) -> str:
        """Name and shape of row `index` (0 = the line after the version line)."""
        return self.layout()[index].describe()

    def tensors(self) -> dict[str, np.ndarray]:
        """Rows by name, reshaped to their tensor shapes."""
        return {s.name: r.reshape(s.shape) for s, r in zip(self.layout(), self.rows, strict=True)}

    @property
    def parameter_count(self) -> int:
        return sum(r.size for r in self.rows)


# ---------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise WeightsError(f"{path}: cannot read: {exc}") from None


def _line_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every line, without copying the (hundreds of MB of) text."""
    spans, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        spans.append((start, end))
        start = end + 1
    return spans


def _check_version(path: Path, first: bytes) -> int:
    token = first.strip().decode("ascii", "replace")
    if token == str(ELF_VERSION):
        raise WeightsError(
            f"{path}: line 1: version 2 (ELF OpenGo: the value head is from black's view, not "
            "the side to move); this tool reads only version 1"
        )
    if token != str(FORMAT_VERSION):
        raise WeightsError(f"{path}: line 1: expected version `1`, got {token[:40]!r}")
    return FORMAT_VERSION


def _infer_shape(path: Path, data: bytes, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """blocks from the line count, filters from the input conv bias (line 3), as leelaz does."""
    n_rows = len(spans) - 1
    extra = n_rows - INPUT_ROWS - HEAD_ROWS
    if extra < 0 or extra % ROWS_PER_BLOCK:
        raise WeightsError(
            f"{path}: {n_rows} tensor rows after the version line; a network has "
            f"{INPUT_ROWS} + {ROWS_PER_BLOCK} * blocks + {HEAD_ROWS} (rows missing or extra)"
        )
    filters = len(data[slice(*spans[2])].split())
    if filters == 0:
        raise WeightsError(f"{path}: line 3 (input.conv_b, one value per filter) is empty")
    return extra // ROWS_PER_BLOCK, filters


_FLOAT64_EXPONENT_BITS = 0x7FF << 52
_FLOAT32_MIN_NORMAL_BITS = (1023 - 126) << 52  # float64 bits of 2**-126
_FLOAT32_SUBNORMAL_STEP = 2.0**149  # 1 / the float32 spacing below 2**-126
_LOW_29_BITS, _HALF_FLOAT32_ULP = (1 << 29) - 1, 1 << 28  # of a float64 mantissa


def _halfway(values: np.ndarray) -> np.ndarray:
    """Which float64 values lie exactly halfway between two neighbouring float32s."""
    bits = values.view(np.int64)
    halfway = (bits & _LOW_29_BITS) == _HALF_FLOAT32_ULP
    small = np.flatnonzero((bits & _FLOAT64_EXPONENT_BITS) < _FLOAT32_MIN_NORMAL_BITS)
    halfway[small] = (values[small] * _FLOAT32_SUBNORMAL_STEP) % 1.0 == 0.5
    return halfway


def _to_float32(values: np.ndarray, tokens) -> np.ndarray:
    """float64 parses -> float32 exactly as strtof rounds the decimal text (leelaz reads
    with `>>`). Rounding twice (text -> float64 -> float32) differs only where the float64
    lies exactly halfway between two float32s: those few are rounded from the exact decimal
    (`tokens()` gives the row's tokens)."""
    out = values.astype(np.float32)
    ties = np.flatnonzero(_halfway(values))
    if ties.size:
        texts = tokens()
        for i in ties:
            exact, middle = Fraction(texts[i].decode("ascii")), Fraction(float(values[i]))
            if exact != middle:  # an exact tie keeps round-half-even, as strtof does
                toward = np.float32(np.inf if exact > middle else -np.inf)
                if (out[i] > values[i]) != (exact > middle):  # rounded to the wrong side
                    out[i] = np.nextafter(out[i], toward)
    return out


def _parse_line(path: Path, line_no: int, text: bytes, spec: RowSpec) -> np.ndarray:
    """The slow, exact parse of one line, for files with odd spacing and for error messages."""
    tokens = text.split()
    values = np.empty(len(tokens), np.float64)
    for i, token in enumerate(tokens):
        try:
            values[i] = float(token)
        except ValueError:
            raise WeightsError(
                f"{path}: line {line_no} ({spec.describe()}): value {i + 1} is not a number: "
                f"{token[:40].decode('ascii', 'replace')!r}"
            ) from None
    if values.size != spec.size:
        raise WeightsError(
            f"{path}: line {line_no} should hold {spec.describe()}: expected {spec.size} "
            f"values, got {values.size}"
        )
    return _to_float32(values, lambda: tokens)


def _parse_rows(path: Path, data: bytes, spans, layout: list[RowSpec]) -> list[np.ndarray]:
    """All rows. Fast path: one vectorised parse of the whole text, trusted only when every
    line holds exactly its expected number of single-space-separated tokens."""
    single_spaced = True
    for index, spec in enumerate(layout):
        start, end = spans[index + 1]
        if data.count(b" ", start, end) + 1 != spec.size:
            single_spaced = False
            _parse_line(path, index + 2, data[start:end], spec)  # raises if the count is wrong
    if single_spaced:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # older NumPy warns (and stops) at a bad token
            try:
                flat = np.fromstring(data, dtype=np.float64, sep=" ")[1:]  # [0]: the version
            except ValueError:  # NumPy 2.x raises at a bad token: the exact parse names it
                flat = np.empty(0)
        sizes = [spec.size for spec in layout]
        if flat.size == sum(sizes):
            rows = np.split(flat, np.cumsum(sizes)[:-1])
            return [
                _to_float32(row, lambda i=index: data[slice(*spans[i + 1])].split())
                for index, row in enumerate(rows)
            ]
    return [
        _parse_line(path, index + 2, data[slice(*spans[index + 1])], spec)
        for index, spec in enumerate(layout)
    ]


def _check_values(path: Path, line_no: int, row: np.ndarray, spec: RowSpec) -> None:
    bad = ~np.isfinite(row)
    if bad.any():
        i = int(np.argmax(bad))
        raise WeightsError(
            f"{path}: line {line_no} ({spec.describe()}): value {i + 1} is {row[i]} (not finite)"
        )
    if spec.is_variance and (row <= 0).any():
        i = int(np.argmax(row <= 0))
        raise WeightsError(
            f"{path}: line {line_no} ({spec.describe()}): value {i + 1} is {row[i]}; "
            "batch-norm variances must be > 0"
        )


def read_weights(path: str | os.PathLike) -> LZWeights:
    """Read and fully validate a v1 weights file (`.gz` by extension). Raises WeightsError."""
    path = Path(path)
    data = _read_bytes(path)
    spans = _line_spans(data)
    if not spans:
        raise WeightsError(f"{path}: empty file")
    version = _check_version(path, data[slice(*spans[0])])
    blocks, filters = _infer_shape(path, data, spans)
    layout = row_layout(blocks, filters)
    rows = _parse_rows(path, data, spans, layout)
    for index, (spec, row) in enumerate(zip(layout, rows, strict=True)):
        _check_values(path, index + 2, row, spec)
    return LZWeights(blocks=blocks, filters=filters, version=version, rows=rows)


# ---------------------------------------------------------------- writing


def _validate_rows(rows: list[np.ndarray]) -> None:
    """A writer never produces a file `read_weights` would refuse."""
    if len(rows) < INPUT_ROWS + HEAD_ROWS or (len(rows) - 18) % ROWS_PER_BLOCK:
        raise ValueError(f"{len(rows)} rows do not make a network (18 + 8 * blocks)")
    filters = np.asarray(rows[1]).size
    layout = row_layout((len(rows) - 18) // ROWS_PER_BLOCK, filters)
    for index, (spec, row) in enumerate(zip(layout, rows, strict=True)):
        row = np.asarray(row)
        where = f"row {index} ({spec.describe()})"
        if row.size != spec.size:
            raise ValueError(f"{where}: expected {spec.size} values, got {row.size}")
        if not np.isfinite(row).all():
            raise ValueError(f"{where}: holds a non-finite value")
        if spec.is_variance and (row <= 0).any():
            raise ValueError(f"{where}: a batch-norm variance is <= 0")


def _atomic_write(path: Path, chunks) -> None:
    with atomic_open(path) as raw:
        sink = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
            if path.suffix == ".gz"
            else raw
        )
        for chunk in chunks:
            sink.write(chunk)
        if sink is not raw:
            sink.close()


def write_weights(path: str | os.PathLike, rows: list[np.ndarray]) -> None:
    """Write a v1 file from flat rows in file order (any model can produce them); atomic."""
    _validate_rows(rows)
    path = Path(path)

    def chunks():
        yield f"{FORMAT_VERSION}\n".encode()
        for row in rows:
            yield format_row(np.asarray(row, dtype=np.float32))
            yield b"\n"

    _atomic_write(path, chunks())
