import json

import pytest

from tests.chess.games import games
from zeroforge.chess.records import VALUE_NONE
from zeroforge.cli import main
from zeroforge.data.chess_records import write_records


def _run(capsys, *argv):
    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _records():
    return [r for r in games(21, 12, 50) if "c6" not in r.fen.split()[3]]  # legal ep only


def test_convert_round_trip_through_every_format(tmp_path, capsys):
    records = _records()
    start = tmp_path / "a.binpack"
    write_records(start, records)
    chain = [start, tmp_path / "b.plain", tmp_path / "c.bin", tmp_path / "d.binpack"]
    for source, target in zip(chain, chain[1:], strict=False):
        code, out, _ = _run(capsys, "nnue", "convert", source, target)
        assert code == 0
        assert f"read  {len(records):>12,} records from {source}" in out
        assert f"wrote {len(records):>12,} records to {target}" in out
    assert chain[-1].read_bytes() == start.read_bytes()
    code, out, _ = _run(capsys, "nnue", "convert", chain[1], chain[2], start, "--json")
    report = json.loads(out)
    assert code == 0 and report["written"] == 2 * len(records)
    assert [i["records"] for i in report["inputs"]] == [len(records)] * 2


def test_convert_bad_input_writes_nothing_unless_skip_bad(tmp_path, capsys):
    good = tmp_path / "good.plain"
    write_records(good, _records()[:5])
    bad = tmp_path / "bad.plain"
    bad.write_text(good.read_text().replace("move ", "move a1a1", 1))
    code, _, err = _run(capsys, "nnue", "convert", bad, tmp_path / "out.bin")
    assert code == 1 and "bad.plain: record at line 1" in err and "nothing written" in err
    assert not (tmp_path / "out.bin").exists()
    code, out, _ = _run(capsys, "nnue", "convert", bad, tmp_path / "out.bin", "--skip-bad")
    assert code == 0 and "(1 bad skipped)" in out and "wrote            4 records" in out
    code, _, err = _run(capsys, "nnue", "convert", good, tmp_path / "out.txt")
    assert code == 2 and "not a Stockfish training data file" in err


def test_inspect_stockfish_data(tmp_path, capsys):
    records = _records()
    write_records(tmp_path / "x.binpack", records[:100])
    write_records(tmp_path / "y.bin", records[100:])
    code, out, _ = _run(capsys, "data", "inspect", tmp_path, "--json")
    report = json.loads(out)
    assert code == 0 and report["files"] == 2 and report["positions"] == len(records)
    assert report["value_none"] == sum(r.score == VALUE_NONE for r in records)
    assert report["wins"] == sum(r.result == 1 for r in records)
    assert report["ply_max"] == max(r.ply for r in records)
    assert sum(b["count"] for b in report["score_histogram"]) == len(records) - report["value_none"]
    code, out, _ = _run(capsys, "data", "inspect", tmp_path / "x.binpack")
    assert code == 0 and "positions       100" in out and "VALUE_NONE" in out
    (tmp_path / "z.bin").write_bytes(b"\0" * 41)
    code, out, err = _run(capsys, "data", "inspect", tmp_path / "z.bin")
    assert code == 1 and "z.bin: record 0 (byte 0)" in err and "--skip-bad" in err


def test_inspect_counts_what_nnue_pytorch_filters(tmp_path, capsys):
    import chess

    records = _records()
    write_records(tmp_path / "x.plain", records)
    boards = [(chess.Board(r.fen), chess.Move.from_uci(r.move)) for r in records]
    checks = [b.is_check() for b, _ in boards]
    captures = [b.is_capture(m) for b, m in boards]
    code, out, _ = _run(capsys, "data", "inspect", tmp_path / "x.plain", "--json")
    report = json.loads(out)
    assert (report["in_check"], report["captures"]) == (sum(checks), sum(captures))
    skipped = sum(
        c or x or r.score == VALUE_NONE for c, x, r in zip(checks, captures, records, strict=True)
    )
    assert report["skipped_by_nnue_pytorch"] == skipped


def test_convert_a_directory(tmp_path, capsys):
    records = _records()
    (tmp_path / "in").mkdir()
    write_records(tmp_path / "in" / "a.plain", records[:10])
    write_records(tmp_path / "in" / "b.bin", records[10:30])
    code, out, _ = _run(capsys, "nnue", "convert", tmp_path / "in", tmp_path / "all.binpack")
    assert code == 0 and "wrote           30 records" in out
    code, _, err = _run(capsys, "nnue", "convert", tmp_path / "nothing*", tmp_path / "x.bin")
    assert code == 1 and "no file matches" in err


def test_convert_into_a_missing_folder_names_it(tmp_path, capsys):
    good = tmp_path / "good.plain"
    write_records(good, _records()[:5])
    target = tmp_path / "missing" / "out.bin"
    code, _, err = _run(capsys, "nnue", "convert", good, target)
    assert (
        code == 1 and err == f"zeroforge nnue convert: {target}: no such folder {target.parent}\n"
    )


@pytest.mark.parametrize("suffix", [".binpack", ".bin", ".plain"])
def test_an_empty_input_is_named_and_nothing_is_written(tmp_path, capsys, suffix):
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    target = tmp_path / "out.bin"
    code, _, err = _run(capsys, "nnue", "convert", empty, target)
    assert code == 1 and f"{empty}: record 0: no records (empty file)" in err
    code, _, err = _run(capsys, "nnue", "convert", empty, target, "--skip-bad")
    assert code == 1 and f"no good records in {empty} (nothing written)" in err
    assert not target.exists() and sorted(tmp_path.iterdir()) == [empty]
    code, _, err = _run(capsys, "data", "inspect", empty)
    assert code == 1 and f"error: {empty}: record 0: no records (empty file)" in err
