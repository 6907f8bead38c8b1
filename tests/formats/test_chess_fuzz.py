"""Damaged Stockfish data never crashes a reader: it reads, or raises ChessDataError naming the
file; with skip_bad it never raises at all."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chess.games import games
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.data.chess_records import iter_records, write_records

SUFFIXES = (".binpack", ".bin", ".plain")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    records = games(31, 6, 40)
    out = {}
    for suffix in SUFFIXES:
        write_records(folder / f"g{suffix}", records)
        out[suffix] = (folder / f"g{suffix}").read_bytes()
    return out


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(SUFFIXES),
    st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6
    ),
    st.floats(0, 1),
)
def test_damaged_files_fail_cleanly(tmp_path, clean, suffix, flips, keep):
    data = bytearray(clean[suffix])
    for where, value in flips:
        data[int(where * len(data))] = value
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(bytes(data[: max(1, int(keep * len(data) * 1.2))]))
    try:
        list(iter_records(path))
    except ChessDataError as error:
        assert str(path) in str(error)
    stats = ReadStats()
    kept = list(iter_records(path, skip_bad=True, stats=stats))
    assert stats.records == len(kept)
