"""`gnugo-games` at scale with the real GNU Go: parallel workers play distinct seeds, a rerun
resumes (skips published games, replays lost ones identically), a killed run leaves only whole
games. Games are capped at a few moves to stay fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from zeroforge.formats.sgf import read_game
from zeroforge.play.gnugo_games import GnugoGameOptions, game_paths, run_games

pytestmark = pytest.mark.engine

SHORT = GnugoGameOptions(level=0, max_moves=12, seed=400)


def moves_of(path):
    return read_game(path).moves


def test_parallel_workers_play_distinct_seeds(tmp_path):
    stats = run_games(SHORT, 4, 2, tmp_path, show_progress=False)
    assert not stats.lost and not stats.already_there and stats.workers == 2
    assert [game.seed for game in stats.played] == [400, 401, 402, 403]
    paths = game_paths(SHORT, 4, tmp_path)
    assert sorted(stats.paths) == sorted(paths)
    games = [read_game(path) for path in paths]
    for seed, game in zip(range(400, 404), games, strict=True):
        assert f"--chinese-rules --seed {seed} (stopped at the move cap" in game.comment
        assert len(game.moves) == 12 and game.result[:2] in ("B+", "W+")
    assert len({tuple(game.moves) for game in games}) == 4  # each seed its own game


def test_rerun_skips_published_games_and_replays_lost_ones(tmp_path):
    first = run_games(SHORT, 2, 2, tmp_path, show_progress=False)
    assert len(first.played) == 2
    kept, lost = game_paths(SHORT, 2, tmp_path)
    kept_stamp = kept.stat().st_mtime_ns
    lost_moves = moves_of(lost)
    lost.unlink()  # as if its engine had died
    (tmp_path / f".{lost.name}.dead.tmp").write_text("(;GM[1]")  # a killed run's leftover
    second = run_games(SHORT, 3, 1, tmp_path, show_progress=False)
    assert second.already_there == [kept]
    assert sorted(game.seed for game in second.played) == [401, 402]
    assert kept.stat().st_mtime_ns == kept_stamp
    assert moves_of(lost) == lost_moves  # same seed, same game: a resumed corpus is the same
    assert sorted(p.name for p in tmp_path.glob("*.sgf")) == [
        "gnugo-l0-s400.sgf",
        "gnugo-l0-s401.sgf",
        "gnugo-l0-s402.sgf",
    ]


def test_names_carry_what_makes_the_game():
    options = GnugoGameOptions(level=3, komi=0.5, handicap=4, seed=10)
    assert options.game_name(2) == "gnugo-l3-h4-k0.5-s12"
    assert GnugoGameOptions(level=1, seed=20000).game_name(0) == "gnugo-l1-s20000"


def test_killed_run_loses_only_games_in_flight(tmp_path):
    out = tmp_path / "games"
    argv = ["--games", "4", "--workers", "2", "--level", "0", "--max-moves", "12"]
    argv += ["--seed", "500", "--out", str(out), "--no-progress"]
    command = [sys.executable, "-m", "zeroforge.cli", "gnugo-games", *argv]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(out.glob("*.sgf")) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    before = sorted(out.glob("*.sgf"))
    assert 1 <= len(before) < 4, run.stderr.read().decode()
    for path in before:  # every published file is a whole game
        assert len(moves_of(path)) == 12
    from zeroforge.commands.gnugo_games import main

    assert main(argv) == 0
    after = sorted(out.glob("*.sgf"))
    assert len(after) == 4 and set(before) <= set(after)
    assert all(len(moves_of(path)) == 12 for path in after)


def test_sigterm_to_the_group_stops_cleanly_keeping_published_games(tmp_path):
    """SIGTERM as `timeout` sends it (the command, then its process group) used to kill the run
    without a word; now the games in flight are dropped and the run says how to finish."""
    out = tmp_path / "games"
    argv = ["--games", "20", "--workers", "2", "--level", "0", "--max-moves", "12"]
    argv += ["--seed", "700", "--out", str(out), "--no-progress"]
    command = [sys.executable, "-m", "zeroforge.cli", "gnugo-games", *argv]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    while not list(out.glob("*.sgf")):
        assert run.poll() is None, run.stderr.read().decode()
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGTERM)
    os.killpg(run.pid, signal.SIGTERM)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr.decode()
    assert stderr.decode().strip().splitlines()[-1] == (
        "gnugo-games: rerun the same command to play the missing games"
    )
    before = sorted(out.glob("*.sgf"))
    assert 1 <= len(before) < 20 and all(len(moves_of(path)) == 12 for path in before)
