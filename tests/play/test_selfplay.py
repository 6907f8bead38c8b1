"""Self-play with the real leelaz (random 2x16 net, tiny searches) and GNU Go scoring."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from zeroforge.atomic import HOST
from zeroforge.formats.chunks import read_chunk
from zeroforge.formats.lzdebug import debug_path_for, read_debug
from zeroforge.formats.sgf import read_game
from zeroforge.play.scoring import result_winner
from zeroforge.play.selfplay import (
    SelfplayOptions,
    dump_dir,
    game_seed,
    resign_allowed,
    run_selfplay,
)


def test_dump_dir_is_leelaz_safe():
    path = dump_dir()
    try:
        assert str(path) == str(path).lower() and " " not in str(path)
    finally:
        path.rmdir()


def test_seeds_distinct_and_resign_fraction():
    options = SelfplayOptions(weights="w", seed=5, no_resign_fraction=0.25)
    seeds = {game_seed(options, i, a) for i in range(100) for a in range(options.max_attempts)}
    assert len(seeds) == 100 * options.max_attempts
    allowed = [resign_allowed(options, game_seed(options, i, 0)) for i in range(2000)]
    assert 0.70 < np.mean(allowed) < 0.80
    assert resign_allowed(options, 123) == resign_allowed(options, 123)


def test_a_search_limit_is_required(tmp_path):
    with pytest.raises(ValueError, match="playouts or visits"):
        run_selfplay(SelfplayOptions(weights="w"), 1, 1, tmp_path, show_progress=False)


def check_game_files(out: Path, name: str) -> int:
    """Chunk, search values and SGF of one game agree; returns the record count."""
    chunk = out / "chunks" / f"{name}.gz"
    positions = read_chunk(chunk).positions
    values = read_debug(debug_path_for(chunk))
    assert len(values) == len(positions) > 0
    q = values.q
    assert q.dtype == np.float32 and ((q >= -1) & (q <= 1)).all()
    assert ((values.net_value >= -1) & (values.net_value <= 1)).all()
    game = read_game(out / "sgf" / f"{name}.sgf")
    # One record per genmove, black first, then alternating; a resigning genmove records too.
    resigned = game.result.endswith("+R")
    assert len(positions) == len(game.moves) + resigned
    assert list(positions.side_to_move) == [i % 2 for i in range(len(positions))]
    winner = result_winner(game.result)
    won = np.where(positions.side_to_move == (0 if winner == "b" else 1), 1, -1)
    assert (positions.winner == won).all()
    return len(positions)


@pytest.mark.engine
@pytest.mark.parametrize(
    "max_moves",
    # Capped: scored by estimate_score (fast). Uncapped: played to two passes, scored by GNU Go's
    # final_score, which takes 20-90 s on the chaotic end of a random net's game.
    [60, pytest.param(0, marks=pytest.mark.slow)],
)
def test_two_game_selfplay(tmp_path, lz_weights, max_moves):
    out = tmp_path / "Self Play"  # spaces and capitals: only leelaz's own dumps must avoid them
    options = SelfplayOptions(
        weights=str(lz_weights),
        playouts=1,
        seed=11,
        no_resign_fraction=0.5,
        max_moves=max_moves,
        score_level=0,
    )
    stats = run_selfplay(options, games=2, workers=2, out=out, show_progress=False)
    assert len(stats.games) == 2 and not stats.crashes
    for game in stats.games:
        assert check_game_files(out, game.name) == game.records
        pct = read_debug(out / "debug" / f"{game.name}.debug").resign_pct
        assert pct == (1 if game.resign_allowed else 0)
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert not leftovers


@pytest.mark.engine
def test_resignation(tmp_path, lz_weights):
    # leelaz resigns at the first move it may (after 361/4 moves) when its winrate is < 60 %.
    options = SelfplayOptions(
        weights=str(lz_weights), playouts=5, seed=300, resign_pct=60, no_resign_fraction=0
    )
    stats = run_selfplay(options, games=1, workers=1, out=tmp_path, show_progress=False)
    game = stats.games[0]
    assert game.result.endswith("+R") and game.records == game.moves + 1
    check_game_files(tmp_path, game.name)


def _leelaz_children() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if comm == "leelaz" and ppid == os.getpid():
            pids.append(int(entry.name))
    return pids


def _watch_chunks(out: Path, stop: threading.Event, seen: dict) -> None:
    """A trainer's view while games are being written: every visible chunk is whole and
    already has its search values."""
    while True:
        finished = stop.is_set()  # one more look after the last game
        for chunk in (out / "chunks").glob("*.gz"):
            if chunk.name not in seen:
                try:
                    seen[chunk.name] = len(read_chunk(chunk).positions)
                    assert len(read_debug(debug_path_for(chunk))) == seen[chunk.name]
                except Exception as exc:  # reported by the test thread
                    seen[chunk.name] = exc
        if finished:
            return
        time.sleep(0.01)


@pytest.mark.engine
def test_killed_engine_loses_only_its_game(tmp_path, lz_weights):
    out = tmp_path / "out"
    options = SelfplayOptions(
        weights=str(lz_weights), playouts=1, seed=21, max_moves=100, score_level=0
    )
    result, stop, seen = {}, threading.Event(), {}
    (out / "chunks").mkdir(parents=True)
    watcher = threading.Thread(target=_watch_chunks, args=(out, stop, seen))
    watcher.start()

    def play() -> None:
        result["stats"] = run_selfplay(options, games=3, workers=1, out=out, show_progress=False)

    player = threading.Thread(target=play)
    player.start()
    deadline = time.monotonic() + 60
    while not _leelaz_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    victims = _leelaz_children()
    assert victims, "no leelaz process to kill"
    os.kill(victims[0], signal.SIGKILL)
    player.join(timeout=300)
    stop.set()
    watcher.join()
    stats = result["stats"]
    assert len(stats.games) == 3
    assert len(stats.crashes) == 1 and "exit code -9" in stats.crashes[0]
    assert all(isinstance(n, int) for n in seen.values()), seen
    names = sorted(p.name for p in (out / "chunks").glob("*.gz"))
    assert names == sorted(f"{g.name}.gz" for g in stats.games) == sorted(seen)
    for game in stats.games:
        check_game_files(out, game.name)


@pytest.mark.engine
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_keeping_finished_games(tmp_path, lz_weights, signum):
    """Ctrl-C used to end in a traceback while the pool played every queued game, and SIGTERM
    (`timeout`) killed the run silently; now the games in flight are dropped, the finished ones
    stay whole, and one line says so. SIGTERM goes to the command, then its process group, as
    `timeout` sends it."""
    out = tmp_path / "out"
    argv = ["selfplay", "--weights", str(lz_weights), "--games", "40", "--workers", "2"]
    argv += ["--playouts", "1", "--max-moves", "60", "--score-level", "0", "--seed", "7"]
    command = [sys.executable, "-m", "zeroforge.cli", *argv, "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("*.gz")):
        assert run.poll() is None and time.monotonic() < deadline, run.stderr.read().decode()
        time.sleep(0.05)
    os.kill(run.pid, signum)
    if signum == signal.SIGTERM:
        os.killpg(run.pid, signum)
    stdout, stderr = run.communicate(timeout=120)
    stderr = stderr.decode()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    names = sorted(p.name.removesuffix(".gz") for p in (out / "chunks").iterdir())
    assert 1 <= len(names) < 40
    assert stderr.strip().splitlines() == [
        f"selfplay: interrupted; {len(names)} finished games kept in {out} "
        "(no resume: a rerun plays all 40 games again)"
    ]
    assert f"{len(names)} games, " in stdout.decode()
    for name in names:  # every published game is whole: chunk, search values and SGF agree
        check_game_files(out, name)
    assert sorted(p.stem for p in (out / "sgf").iterdir()) == names
    assert sorted(p.name.removesuffix(".debug") for p in (out / "debug").iterdir()) == names
    owned = f"zf-selfplay-{HOST}-{run.pid}-"
    assert not [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(owned)]
