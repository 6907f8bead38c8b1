"""formats/lzfloat.py: 9-significant-digit text that every float32 survives bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zeroforge.formats.lzfloat import format_row


def test_format_row_special_values():
    values = np.array(
        [0.0, -0.0, 1.0, -2.5, 10.0, 1e-45, 3.4028235e38, 0.1, 9.99999975e-5], dtype=np.float32
    )
    text = format_row(values)
    assert text == (b"0 -0 1 -2.5 1e1 1.40129846e-45 3.40282347e38 1.00000001e-1 9.99999975e-5")
    back = np.array(text.split(), dtype=np.float32)
    assert np.array_equal(back.view(np.uint32), values.view(np.uint32))  # -0 keeps its sign


def test_every_kind_of_float32_round_trips_bit_exactly():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    # every exponent, and the neighbours of every power of ten
    powers = np.float32(10.0) ** np.arange(-45, 39, dtype=np.float32)
    near = np.concatenate(
        [np.nextafter(powers, np.float32(0)), powers, np.nextafter(powers, np.float32(np.inf))]
    )
    values = np.concatenate([bits.view(np.float32), near, -near])
    values = values[np.isfinite(values)]
    back = np.array(format_row(values).split(), dtype=np.float32)
    assert np.array_equal(back.view(np.uint32), values.view(np.uint32))
    # at most 9 significant digits, one space between numbers
    assert b"  " not in format_row(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1))
def test_format_row_hypothesis(values):
    values = np.array(values, dtype=np.float32)
    back = np.array(format_row(values).split(), dtype=np.float32)
    assert np.array_equal(back.view(np.uint32), values.view(np.uint32))
