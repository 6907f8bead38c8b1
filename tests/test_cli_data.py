import gzip
import json
import subprocess
import sys

import numpy as np

from tests.conftest import make_positions
from zeroforge.cli import main
from zeroforge.formats.chunks import encode_chunk, write_chunk


def _run(capsys, *argv):
    code = main(["data", "inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_reports_counts_balance_and_policy_kind(tmp_path, capsys):
    one_hot, soft = make_positions(30, seed=1, soft=False), make_positions(20, seed=2)
    write_chunk(tmp_path / "sup.0.gz", one_hot)
    write_chunk(tmp_path / "self.0.gz", soft)
    code, out, _ = _run(capsys, tmp_path, "--json")
    report = json.loads(out)
    assert code == 0
    assert (report["files"], report["positions"], report["bad_records"]) == (2, 50, 0)
    black = int((one_hot.side_to_move == 0).sum() + (soft.side_to_move == 0).sum())
    assert report["black_to_move"] == black
    one_hot_rows = 30 + int(((soft.policy > 0).sum(axis=1) == 1).sum())
    assert report["policy_kind"] == "mixed" and report["one_hot_fraction"] == one_hot_rows / 50
    p = soft.policy.astype(float)
    entropy = -(p * np.log(p, where=p > 0, out=np.zeros_like(p))).sum() / 50
    assert abs(report["mean_policy_entropy_nats"] - entropy) < 1e-4
    code, out, _ = _run(capsys, tmp_path / "sup.0.gz")
    assert code == 0 and "one-hot" in out and "positions       30" in out


def test_inspect_bad_record_exits_1_unless_skip_bad(tmp_path, capsys):
    lines = encode_chunk(make_positions(3, seed=3)).split(b"\n")
    lines[19 + 16] = b"7"  # record 1's side to move
    bad = tmp_path / "bad.0.gz"
    bad.write_bytes(gzip.compress(b"\n".join(lines)))
    code, out, err = _run(capsys, bad)
    assert code == 1 and "bad records     1" in out  # the report on stdout, the cause on stderr
    assert f"error: {bad}: record 1 (line 36): side to move" in err and "record 1" not in out
    assert "--skip-bad" in err
    code, out, _ = _run(capsys, bad, "--skip-bad", "--json")
    report = json.loads(out)
    assert code == 0 and report["positions"] == 2 and report["bad_records"] == 1
    assert "record 1 (line 36)" in report["errors"][0]


def test_inspect_unreadable_and_missing(tmp_path, capsys):
    (tmp_path / "empty.0.gz").write_bytes(b"")  # what an aborted leelaz dump leaves behind
    (tmp_path / "cut.0.gz").write_bytes(gzip.compress(b"x" * 5000)[:20])
    code, out, _ = _run(capsys, tmp_path, "--json")
    report = json.loads(out)
    assert code == 1 and report["unreadable_files"] == 2 and report["positions"] == 0
    code, out, _ = _run(capsys, tmp_path)  # the text report: counts, no shares of nothing
    assert code == 1 and "positions       0" in out and "%" not in out
    (tmp_path / "cut.binpack").write_bytes(b"BINP\x00")  # Stockfish data: the same
    code, out, _ = _run(capsys, tmp_path / "cut.binpack")
    assert code == 1 and "positions       0" in out and "%" not in out
    code, _, err = _run(capsys, tmp_path / "nothing-*.gz")
    assert code == 1 and "no file matches" in err


def test_console_script_without_traceback(tmp_path):
    (tmp_path / "junk.gz").write_bytes(b"\x1f\x8b\x08junk")
    run = subprocess.run(
        [sys.executable, "-m", "zeroforge.cli", "data", "inspect", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr + run.stdout
    assert "junk.gz: record 0 (line 1)" in run.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "zeroforge.cli", "data"], capture_output=True, text=True, timeout=60
    )
    assert usage.returncode == 2 and "inspect" in usage.stderr
