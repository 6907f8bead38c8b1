import pytest

from tests.chess.games import games
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.formats.plain import read_plain, write_plain


def test_record_text_by_hand(tmp_path):
    path = tmp_path / "one.plain"
    path.write_text(
        "fen rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1\n"
        "move e2e4\nscore 33\nply 0\nresult 1\ne\n"
    )
    (record,) = read_plain(path)
    assert (record.move, record.score, record.ply, record.result) == ("e2e4", 33, 0, 1)
    write_plain(tmp_path / "again.plain", [record])
    assert (tmp_path / "again.plain").read_text() == path.read_text()


def test_write_then_read_is_identity(tmp_path):
    records = games(3, 12)
    path = tmp_path / "g.plain"
    assert write_plain(path, records) == len(records)
    stats = ReadStats()
    assert list(read_plain(path, stats=stats)) == records
    assert stats.records == len(records)


def test_bad_records_name_the_line(tmp_path):
    good = "fen 8/8/4k3/8/8/3K4/8/8 w - - 0 1\nmove d3d4\nscore 0\nply 0\nresult 0\ne\n"
    path = tmp_path / "bad.plain"
    path.write_text(good + good.replace("score 0", "score x") + good + "fen 8/8/8")
    with pytest.raises(ChessDataError, match=r"bad\.plain: record at line 7: score 'x'"):
        list(read_plain(path))
    stats = ReadStats()
    assert len(list(read_plain(path, skip_bad=True, stats=stats))) == 2
    assert stats.bad_records == 2
    assert "record at line 19: cut short" in stats.errors[1]
