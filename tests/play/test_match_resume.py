"""A match killed with SIGKILL mid-way resumes exactly: every game id once, none replayed; one
stopped by SIGTERM or Ctrl-C says so in one line."""

import os
import signal
import subprocess
import sys
import time

import pytest

from zeroforge.play.results import read_results


def start_match(out, fake_spec, **popen) -> subprocess.Popen:
    argv = [
        sys.executable,
        "-m",
        "zeroforge.cli",
        "match",
        "--games",
        "8",
        "--workers",
        "2",
        "--out",
        str(out),
        "--black",
        fake_spec(resign_after=5, delay=0.02, seed="{seed}", vary=3),
        "--white",
        fake_spec(resign_after=5, delay=0.02, seed="{seed}", vary=2),
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def test_kill_9_then_rerun_plays_each_game_exactly_once(tmp_path, fake_spec):
    out = tmp_path / "match"
    first = start_match(out, fake_spec)
    deadline = time.monotonic() + 60
    while not read_results(out / "results.jsonl"):
        assert first.poll() is None, first.stderr.read().decode()
        assert time.monotonic() < deadline, "no game finished within 60 s"
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = read_results(out / "results.jsonl")
    assert 1 <= len(before) < 8, "the kill came too late to test resuming"

    second = start_match(out, fake_spec)
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr.decode()
    after = read_results(out / "results.jsonl")
    assert sorted(r["game"] for r in after) == list(range(8))
    assert after[: len(before)] == before  # recorded games were kept, not replayed
    assert sorted(p.name for p in (out / "games").glob("*.sgf")) == [
        f"game-{i:04d}.sgf" for i in range(8)
    ]
    assert b"8 games of 8 played" in stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_to_the_group_stops_cleanly_then_rerun_completes(
    tmp_path, fake_spec, signum
):
    """As `timeout` (SIGTERM) or a terminal's Ctrl-C (SIGINT) signal the whole process group:
    the one "interrupted" line, exit code 130, and a rerun that finishes (SIGTERM used to kill
    the match without a word)."""
    out = tmp_path / "match"
    first = start_match(out, fake_spec, start_new_session=True)
    while not read_results(out / "results.jsonl"):
        assert first.poll() is None, first.stderr.read().decode()
        time.sleep(0.02)
    os.kill(first.pid, signum)
    os.killpg(first.pid, signum)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr.decode()
    last = stderr.decode().strip().splitlines()[-1]
    assert last == "zeroforge match: interrupted; rerun the same command to resume"
    assert 1 <= len(read_results(out / "results.jsonl")) < 8
    second = start_match(out, fake_spec)
    second.communicate(timeout=120)
    assert second.returncode == 0
    assert sorted(r["game"] for r in read_results(out / "results.jsonl")) == list(range(8))
