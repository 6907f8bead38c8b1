"""zeroforge.atomic: whole files or none, and no leftovers from a process killed mid-write."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from zeroforge.atomic import atomic_write_text, temp_dir

# A process that starts writing `target` atomically (or makes a temporary folder in `base`),
# says so, and waits to be killed.
WRITER = """
import sys, time
from zeroforge.atomic import atomic_open, temp_dir
kind, where = sys.argv[1:]
if kind == "file":
    with atomic_open(where) as handle:
        handle.write(b"partial")
        print("ready", flush=True)
        time.sleep(600)
else:
    temp_dir("zeroforge-match", where)
    print("ready", flush=True)
    time.sleep(600)
"""


def start(kind: str, where) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, kind, str(where)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "ready\n"
    return process


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            kill(process)


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path, processes):
    processes += [start("file", tmp_path / "a.ckpt"), start("file", tmp_path / "b.ckpt")]
    kill(processes[0])  # b's writer keeps running
    temps = sorted(p.name for p in tmp_path.iterdir())
    assert len(temps) == 2 and all(n.startswith((".a.ckpt.", ".b.ckpt.")) for n in temps)
    atomic_write_text(tmp_path / "c.txt", "whole")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["c.txt", next(n for n in temps if n.startswith(".b.ckpt."))])
    assert not (tmp_path / "a.ckpt").exists()


def test_a_killed_processs_temporary_folder_goes_with_the_next(tmp_path, processes):
    processes += [start("folder", tmp_path), start("folder", tmp_path)]
    first, second = sorted(tmp_path.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    kill(processes[0])
    mine = temp_dir("zeroforge-match", tmp_path)
    assert sorted(tmp_path.iterdir()) == sorted([second, mine])
    (tmp_path / "zeroforge-match-notours").mkdir()  # other names are left alone
    temp_dir("zeroforge-match", tmp_path)
    assert (tmp_path / "zeroforge-match-notours").is_dir() and second.is_dir()
