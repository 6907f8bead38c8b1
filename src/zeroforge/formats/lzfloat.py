"""Float32 rows as the text of a Leela Zero weights file: 9 significant digits, enough for every
float32 to survive the round trip bit-exactly, by a vectorised formatter (Python's per-number
formatting is ~10x slower). `formats.lzweights` writes its rows with `format_row`.
"""

from __future__ import annotations

import numpy as np

SIGNIFICANT_DIGITS = 9  # max_digits10 of float32: every float32 round-trips


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
