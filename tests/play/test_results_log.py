import json

import pytest

from zeroforge.play.results import ResultsError, ResultsLog, read_results


def test_append_and_read(tmp_path):
    path = tmp_path / "results.jsonl"
    assert read_results(path) == []
    with ResultsLog(path) as log:
        log.append({"game": 0, "winner": "a"})
        log.append({"game": 1, "winner": None})
    assert [r["game"] for r in read_results(path)] == [0, 1]
    assert path.read_bytes().endswith(b"\n")


@pytest.mark.parametrize("tail", [b'{"game": 2, "win', b'{"game": 2}', b"\x00\x00\x00\n"])
def test_torn_last_line_is_ignored_then_cut_off(tmp_path, tail):
    path = tmp_path / "results.jsonl"
    path.write_bytes(b'{"game": 0}\n{"game": 1}\n' + tail)
    assert [r["game"] for r in read_results(path)] == [0, 1]
    with ResultsLog(path) as log:
        assert [r["game"] for r in log.records] == [0, 1]
        log.append({"game": 2})
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["game"] for line in lines] == [0, 1, 2]


def test_damage_before_the_end_is_an_error(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"game": 0}\nnot json\n{"game": 2}\n')
    with pytest.raises(ResultsError, match="results.jsonl: line 2"):
        read_results(path)
    path.write_text('{"game": 0}\n{"nogame": 1}\n{"game": 2}\n')
    with pytest.raises(ResultsError, match="line 2"):
        ResultsLog(path)


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsLog(path), pytest.raises(ResultsError, match="another process"):
        ResultsLog(path)
    ResultsLog(path).close()  # the lock went with the first writer
