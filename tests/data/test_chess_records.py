import pytest

from tests.chess.games import games
from zeroforge.chess.records import ReadStats
from zeroforge.data.chess_records import chess_format, iter_files, iter_records, write_records


def test_every_format_by_extension(tmp_path):
    records = [r for r in games(11, 10) if "c6" not in r.fen.split()[3]]  # legal ep only
    paths = [tmp_path / f"g{suffix}" for suffix in (".binpack", ".bin", ".plain")]
    for path in paths:
        assert write_records(path, records) == len(records)
        assert chess_format(path) == path.suffix
    stats = ReadStats()
    read = list(iter_files(paths, stats=stats))
    assert stats.records == 3 * len(records)
    assert [r.move for r in read] == 3 * [r.move for r in records]
    assert list(iter_records(paths[1])) == records


def test_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match="not a Stockfish training data file"):
        write_records(tmp_path / "x.txt", [])
