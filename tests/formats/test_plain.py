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


@pytest.mark.parametrize("bad_line", [169, 1003])
def test_a_byte_that_is_not_utf8_names_its_line_and_spoils_only_its_record(tmp_path, bad_line):
    """(The text reader decoded 8 KiB ahead: the error named a line before the byte, and
    skipping it lost every record of that block.)"""
    records = games(7, 40)[:300]
    path = tmp_path / "g.plain"
    write_plain(path, records)
    lines = path.read_bytes().split(b"\n")
    lines[bad_line - 1] = lines[bad_line - 1][:5] + b"\xff" + lines[bad_line - 1][5:]
    path.write_bytes(b"\n".join(lines))
    record = (bad_line - 1) // 6  # six lines a record
    with pytest.raises(ChessDataError, match=f"record at line {record * 6 + 1}: line {bad_line}: "):
        list(read_plain(path))
    stats = ReadStats()
    assert (
        list(read_plain(path, skip_bad=True, stats=stats))
        == records[:record] + records[record + 1 :]
    )
    assert stats.bad_records == 1 and f"line {bad_line}: not UTF-8 text" in stats.errors[0]
