"""Leela Zero weights files, version 1: read, validate and write; convert to and from `LZNet`.

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

The engine computes BN(x) = (x + conv_b - mean) / sqrt(var + 1e-5) with no gamma and no beta,
so a PyTorch batch norm with beta (and gamma fixed at 1) is written as conv_b =
beta * sqrt(var + 1e-5); a learned gamma is folded into the conv weights and the running
statistics. leelaz itself checks almost nothing (a row of the wrong length or a negative
variance loads silently and plays garbage), so `read_weights` checks every row.

Import stores beta = b / sqrt(var + 1e-5) in float32, choosing among neighbouring float32s the
one whose export gives b back: files this module wrote round-trip bit for bit. A bias from
another writer may have no such beta (when var + eps > 1) and then moves by one ulp.

Floats are written with 9 significant digits, enough for every float32 to survive the round
trip bit-exactly, by a vectorised formatter (Python's per-number formatting is ~10x slower).
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
SIGNIFICANT_DIGITS = 9  # max_digits10 of float32: every float32 round-trips
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


def _digit_table(drop_trailing_zeros: bool) -> np.ndarray:
    """[10000, 4] uint8: the zero-padded 4 decimal digits of every number, with trailing zeros
    turned into 0 bytes (dropped from the text) when asked."""
    numbers = np.arange(10**4)
    powers = 10 ** np.arange(3, -1, -1)
    digits = numbers[:, None] // powers % 10
    table = (digits + ord("0")).astype(np.uint8)
    if drop_trailing_zeros:
        nonzero_after = np.cumsum(digits[:, ::-1], axis=1)[:, ::-1] > 0  # a nonzero at or after
        table[~nonzero_after] = 0
    return table


# 4 digits packed in a uint32 (little-endian bytes): [0, 10000) keeps trailing zeros,
# [10000, 20000) drops them
_WORDS = np.concatenate([_digit_table(False), _digit_table(True)]).view("<u4").ravel()
_MIN_EXP, _MAX_EXP = -46, 39  # decimal exponents of float32 values (subnormals included)


def _exponent_table() -> np.ndarray:
    """[exponent - _MIN_EXP, 4] uint8: `e-12`, `e7`, ... and nothing for exponent 0."""
    table = np.zeros((_MAX_EXP - _MIN_EXP + 1, 4), np.uint8)
    for i, e in enumerate(range(_MIN_EXP, _MAX_EXP + 1)):
        text = f"e{e}".encode() if e else b""
        table[i, : len(text)] = np.frombuffer(text, np.uint8)
    return table


_EXPONENT_WORDS = _exponent_table().view("<u4").ravel()
_POW10 = 10.0 ** np.arange(_MIN_EXP, _MAX_EXP + 2)  # float64; index e - _MIN_EXP
_SCALE = 10.0 ** (SIGNIFICANT_DIGITS - 1 - np.arange(_MIN_EXP, _MAX_EXP + 1))
# floor(k * log10(2)) == (k * 78913) >> 18 for every binary exponent k of a float32
_LOG10_2_NUM, _LOG10_2_SHIFT = 78913, 18


def _decimal_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|x| = mantissa * 10**(exponent - 8), mantissa a 9-digit integer (0 for zero), rounded
    to nearest. float64 arithmetic errs by ~1e-16, far below the 3e-8 a float32 tolerates."""
    magnitude = np.abs(values).astype(np.float64)
    _, binary = np.frexp(values)  # 2**(binary-1) <= |x| < 2**binary
    exponent = ((binary.astype(np.int32) - 1) * _LOG10_2_NUM) >> _LOG10_2_SHIFT
    np.clip(exponent, _MIN_EXP, _MAX_EXP, out=exponent)
    exponent += magnitude >= _POW10[exponent + 1 - _MIN_EXP]
    mantissa = np.rint(magnitude * _SCALE[exponent - _MIN_EXP]).astype(np.int32)
    carry = mantissa >= 10**SIGNIFICANT_DIGITS  # rounded up to the next power of ten
    mantissa[carry] //= 10
    exponent += carry
    exponent[mantissa == 0] = 0
    return mantissa, exponent


def format_row(values: np.ndarray) -> bytes:
    """Space-separated 9-significant-digit text of a float32 row (no newline), shortest
    spelling of that: trailing zeros dropped, no exponent for 1 <= |x| < 10.

    Each number is laid out in 16 bytes, as four little-endian uint32 words:
    [separator, sign, first digit, '.'] [4 digits] [4 digits] [`e`, `-`, 2 exponent digits];
    unused bytes are 0 and dropped at the end, as is the leading separator.
    """
    values = np.ascontiguousarray(values, dtype=np.float32).ravel()
    mantissa, exponent = _decimal_parts(values)
    first = mantissa // np.int32(10**8)
    rest = mantissa - first * np.int32(10**8)
    middle = rest // np.int32(10**4)
    last = rest - middle * np.int32(10**4)
    head = (first.astype(np.uint32) + np.uint32(ord("0"))) << np.uint32(16)
    head |= np.signbit(values).view(np.uint8).astype(np.uint32) * np.uint32(ord("-") << 8)
    head |= (rest != 0).view(np.uint8).astype(np.uint32) * np.uint32(ord(".") << 24)
    head |= np.uint32(ord(" "))
    out = np.empty((values.size, 4), "<u4")
    out[:, 0] = head
    out[:, 1] = _WORDS[middle + (last == 0) * np.int32(10**4)]  # trailing zeros dropped if last
    out[:, 2] = _WORDS[last + np.int32(10**4)]
    out[:, 3] = _EXPONENT_WORDS[exponent - _MIN_EXP]
    flat = out.view(np.uint8).ravel()
    return np.compress(flat != 0, flat)[1:].tobytes()


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


# ---------------------------------------------------------------- LZNet <-> rows


def _conv_bn_rows(block) -> list[np.ndarray]:
    """A ConvBN as the engine's (w, b, mean, var): gamma folded into w, beta into b."""
    conv, bn = block.conv, block.bn
    var = bn.running_var.detach().double()
    mean = bn.running_mean.detach().double()
    gamma = bn.weight.detach().double()
    beta = bn.bias.detach().double()
    weight = conv.weight.detach()
    # torch: gamma * (y - mean) / std + beta. The engine computes (y' + b - mean') / std, which
    # is the same with y' = gamma * y (conv weights scaled), mean' = gamma * mean and
    # b = beta * std.
    std = (var + BN_EPS).sqrt()
    if not bool((gamma == 1).all()):
        weight = weight.double() * gamma.view(-1, 1, 1, 1)
        mean = mean * gamma
    return [_flat(weight), _flat(beta * std), _flat(mean), _flat(var)]


def _flat(tensor) -> np.ndarray:
    """A float32 copy in logical (C) order, whatever the dtype or memory format."""
    return np.ravel(tensor.detach().cpu().float().numpy()).astype(np.float32, copy=True)


def net_to_rows(model) -> list[np.ndarray]:
    """The rows of an `LZNet` in file order (float32); a network with its own exact fold
    (`lz_tensors()`, e.g. `nn.nfnet.NFNet`) supplies them itself."""
    if hasattr(model, "lz_tensors"):
        return [np.asarray(t, dtype=np.float32).ravel() for t in model.lz_tensors()]
    rows = _conv_bn_rows(model.input)
    for block in model.tower:
        rows += _conv_bn_rows(block.conv1) + _conv_bn_rows(block.conv2)
    rows += _conv_bn_rows(model.policy_conv)
    rows += [_flat(model.policy_fc.weight), _flat(model.policy_fc.bias)]
    rows += _conv_bn_rows(model.value_conv)
    rows += [_flat(model.value_fc1.weight), _flat(model.value_fc1.bias)]
    rows += [_flat(model.value_fc2.weight), _flat(model.value_fc2.bias)]
    return rows


def _beta_for_bias(bias: np.ndarray, var: np.ndarray) -> np.ndarray:
    """float32 beta with float32(beta * sqrt(var + eps)) == bias where one exists.

    beta = bias / std rounded to float32 can miss `bias` by one ulp on the way back; a
    neighbouring float32 usually hits it, which makes import-then-export bit-exact.
    """
    std = np.sqrt(var.astype(np.float64) + BN_EPS)
    best = (bias.astype(np.float64) / std).astype(np.float32)
    found = (best.astype(np.float64) * std).astype(np.float32) == bias
    for steps in (1, -1, 2, -2):
        candidate = best
        for _ in range(abs(steps)):
            candidate = np.nextafter(candidate, np.float32(np.inf if steps > 0 else -np.inf))
        hit = ~found & ((candidate.astype(np.float64) * std).astype(np.float32) == bias)
        best = np.where(hit, candidate, best)
        found |= hit
    return best


def _load_conv_bn(block, w, b, mean, var) -> None:
    import torch

    with torch.no_grad():
        block.conv.weight.copy_(torch.from_numpy(w.reshape(block.conv.weight.shape)))
        block.bn.running_mean.copy_(torch.from_numpy(mean))
        block.bn.running_var.copy_(torch.from_numpy(var))
        block.bn.bias.copy_(torch.from_numpy(_beta_for_bias(b, var)))
        block.bn.weight.fill_(1.0)


def rows_to_net(weights: LZWeights, **net_options):
    """A fresh `LZNet` (eval mode) holding `weights`; net_options go to the constructor."""
    import torch

    from zeroforge.nn.lznet import LZBatchNorm, LZNet

    with torch.device("meta"):  # no random init of tensors that are overwritten next
        model = LZNet(weights.blocks, weights.filters, **net_options)
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if isinstance(module, LZBatchNorm):
            module.num_batches_tracked.zero_()
    rows = iter(weights.rows)

    def take(n):
        return [next(rows) for _ in range(n)]

    _load_conv_bn(model.input, *take(4))
    for block in model.tower:
        _load_conv_bn(block.conv1, *take(4))
        _load_conv_bn(block.conv2, *take(4))
    _load_conv_bn(model.policy_conv, *take(4))
    _load_linear(model.policy_fc, *take(2))
    _load_conv_bn(model.value_conv, *take(4))
    _load_linear(model.value_fc1, *take(2))
    _load_linear(model.value_fc2, *take(2))
    return model.eval()


def _load_linear(layer, w, b) -> None:
    import torch

    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w.reshape(layer.weight.shape)))
        layer.bias.copy_(torch.from_numpy(b))


def export_net(model, path: str | os.PathLike) -> None:
    """Write an `LZNet` as a v1 weights file (`.gz` by extension)."""
    write_weights(path, net_to_rows(model))


def load_net(path: str | os.PathLike, **net_options):
    """Read a v1 weights file into a fresh `LZNet` in eval mode."""
    return rows_to_net(read_weights(path), **net_options)
