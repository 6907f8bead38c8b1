"""gensfen against the real Stockfish, at depth 2-3 (a game takes a fraction of a second)."""

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import chess
import pytest

from zeroforge.cli import main as cli_main
from zeroforge.commands import gensfen as gensfen_command
from zeroforge.formats import binpack, plain, sfbin
from zeroforge.play.chessrules import Adjudication
from zeroforge.play.engines import have_engine
from zeroforge.play.gensfen import GensfenConfig, GensfenError, OpeningPlan, Target, run
from zeroforge.play.results import read_results
from zeroforge.play.uci import VALUE_MATE

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not have_engine("stockfish"), reason="stockfish not installed"),
]


def read_plain(path) -> list[dict]:
    return [asdict(r) for r in plain.read_plain(path)]


def config(**changes) -> GensfenConfig:
    base = dict(
        limits={"depth": 3}, random_plies=6, fmt="plain", adjudication=Adjudication(max_plies=60)
    )
    return GensfenConfig(**{**base, **changes})


def opening(seed, game, window, count=None):
    plan, board = OpeningPlan(seed, game, window, count), chess.Board()
    while board.ply() < window:
        move = plan.move(board) or next(iter(board.legal_moves))  # stand-in for the engine
        board.push(move)
    return [m.uci() for m in board.move_stack], sorted(plan.plies)


def test_random_openings_are_seeded():
    assert opening(0, 5, 8) == opening(0, 5, 8)
    assert opening(0, 5, 8) != opening(0, 6, 8)
    assert opening(1, 5, 8) != opening(0, 5, 8)
    assert opening(0, 5, 8)[1] == list(range(8))
    moves, plies = opening(3, 1, 24, 5)
    assert len(moves) == 24 and len(plies) == 5 and all(0 <= p < 24 for p in plies)
    assert opening(3, 2, 24, 5)[1] != plies


def test_games_are_consistent_chains_with_results_from_the_side_to_move(tmp_path):
    out = tmp_path / "d.plain"
    log = run(out, config(), Target(games=4), workers=2)
    assert sorted(r["game"] for r in log) == [0, 1, 2, 3]
    assert all(0 < r["cpu_seconds"] for r in log)  # the worker's and Stockfish's CPU time
    records = read_plain(out)
    assert len(records) == sum(r["positions"] for r in log) > 0
    games = {}
    board = None
    for rec in records:
        position = chess.Board(rec["fen"])
        if board is None or board.fen() != rec["fen"]:  # a new game (a new chain)
            games[len(games)] = []
        games[len(games) - 1].append(rec)
        move = chess.Move.from_uci(rec["move"])
        assert move in position.legal_moves
        assert rec["ply"] == position.ply() >= 6
        assert -VALUE_MATE <= rec["score"] <= VALUE_MATE
        board = position
        board.push(move)
    assert len(games) == 4
    by_end = sorted(log, key=lambda r: r["end"])
    for entry, recs in zip(by_end, games.values(), strict=True):
        assert len(recs) == entry["positions"] == entry["searched"]
        winner = {"1-0": chess.WHITE, "0-1": chess.BLACK}.get(entry["result"])
        for rec in recs:
            side = chess.Board(rec["fen"]).turn
            assert rec["result"] == (0 if winner is None else (1 if side == winner else -1))
        if entry["reason"] == "checkmate":  # the last mover mated: the score said so
            assert recs[-1]["score"] == VALUE_MATE - 1 and recs[-1]["result"] == 1
        assert entry["reason"] in (
            "checkmate",
            "stalemate",
            "repetition",
            "fifty_moves",
            "insufficient_material",
            "max_plies",
        )


def test_reruns_resume_repair_and_reproduce(tmp_path):
    first = tmp_path / "a.plain"
    run(first, config(), Target(games=2), workers=1)
    two_games = first.read_bytes()
    log = read_results(tmp_path / "a.plain.gensfen.jsonl")
    with open(first, "ab") as handle:  # a game written but never logged (killed between)
        handle.write(b"fen half a game")
    run(first, config(), Target(games=3), workers=1)
    assert first.read_bytes().startswith(two_games)
    assert read_results(tmp_path / "a.plain.gensfen.jsonl")[:2] == log
    # the same three games in one go, on two workers, give the same games
    second = tmp_path / "b.plain"
    run(second, config(), Target(games=3), workers=2)
    games = lambda p: sorted(  # noqa: E731
        p.read_bytes().split(b"\n"), key=bytes
    )
    assert games(first) == games(second)
    with pytest.raises(GensfenError, match="other settings .*limits"):
        run(first, config(limits={"depth": 4}), Target(games=3))
    (tmp_path / "c.plain").write_text("not ours")
    with pytest.raises(GensfenError, match="not made by gensfen"):
        run(tmp_path / "c.plain", config(), Target(games=1))
    first.write_bytes(two_games[:10])
    with pytest.raises(GensfenError, match="truncated"):
        run(first, config(), Target(games=3))


def test_filters_and_positions_target_via_the_command(tmp_path, capsys):
    out = tmp_path / "f.plain"
    argv = [
        str(out),
        "--positions",
        "120",
        "--depth",
        "2",
        "--random-plies",
        "4",
        "--workers",
        "2",
        "--resign-score",
        "2000",
        "--skip-in-check",
        "--skip-captures",
    ]
    assert cli_main(["nnue", "gensfen", *argv]) == 0  # the CLI route
    log = read_results(tmp_path / "f.plain.gensfen.jsonl")
    records = read_plain(out)
    assert len(records) == sum(r["positions"] for r in log) >= 120
    matched = {k: sum(r["matched"][k] for r in log) for k in ("in_check", "capture")}
    searched = sum(r["searched"] for r in log)
    assert matched["capture"] > 0
    assert len(records) <= searched - matched["capture"]
    for rec in records:
        board = chess.Board(rec["fen"])
        assert not board.is_check()
        assert not board.is_capture(chess.Move.from_uci(rec["move"]))
    assert any(r["reason"] == "resign_score" for r in log)
    settings = json.loads((tmp_path / "f.plain.gensfen.json").read_text())
    assert settings["skip"] == ["capture", "in_check"] and settings["limits"] == {"depth": 2}
    assert "positions per hour per worker" in capsys.readouterr().out
    assert gensfen_command.main([str(tmp_path / "x.txt"), "--games", "1", "--depth", "1"]) == 1


def test_random_moves_among_engine_moves_and_write_min_ply(tmp_path):
    out = tmp_path / "r.plain"
    cfg = config(limits={"nodes": 300}, random_plies=16, random_moves=3, write_min_ply=10)
    log = run(out, cfg, Target(games=2), workers=1)
    records = read_plain(out)
    assert len(records) == sum(r["positions"] for r in log) > 0
    assert min(r["ply"] for r in records) >= 10
    start = 0
    for entry in sorted(log, key=lambda r: r["end"]):  # one worker: games in id order
        plies = [r["ply"] for r in records[start : start + entry["positions"]]]
        start += entry["positions"]
        random_plies = OpeningPlan(0, entry["game"], 16, 3).plies
        assert len(random_plies) == 3
        # every ply from 10 to the end was recorded, except those with a random move
        expected = [p for p in range(10, entry["plies"]) if p not in random_plies]
        if entry["reason"] in ("resign_score", "draw_score"):
            expected.append(entry["plies"])  # the adjudicated position is searched too
        assert plies == expected


def test_binpack_and_bin_hold_the_same_games_as_plain(tmp_path):
    for suffix in ("plain", "binpack", "bin"):
        run(tmp_path / f"g.{suffix}", config(fmt=suffix), Target(games=3), workers=1)
    records = plain.read_plain(tmp_path / "g.plain")
    assert list(binpack.read_binpack(tmp_path / "g.binpack")) == list(records)
    assert list(sfbin.read_bin(tmp_path / "g.bin")) == list(plain.read_plain(tmp_path / "g.plain"))
    # one binpack chunk per game, a chain each: about 2-3 bytes a position
    size = (tmp_path / "g.binpack").stat().st_size
    count = len(list(plain.read_plain(tmp_path / "g.plain")))
    assert (tmp_path / "g.binpack").read_bytes().count(b"BINP") == 3
    assert size < 3 * 48 + 4 * count


ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


@contextlib.contextmanager
def gensfen_process(argv):
    """`zeroforge nnue gensfen` in its own process group (as under `timeout`), killed with its
    workers if the test fails before it ends."""
    proc = subprocess.Popen(
        argv,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def handles_sigterm(pid: int) -> bool:
    """Whether process `pid` has installed its SIGTERM handler yet (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        caught = next(line for line in status if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


def cmdline(pid: str) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().decode(errors="replace")


def game_bytes(out, log) -> dict[int, bytes]:
    """Each logged game's bytes, cut from the output at the offsets its log gives."""
    data, start, games = out.read_bytes(), 0, {}
    for record in sorted(log, key=lambda r: r["end"]):
        games[record["game"]] = data[start : record["end"]]
        start = record["end"]
    assert start == len(data)  # nothing unlogged after the last game
    return games


@pytest.mark.slow  # ~40 s on a busy machine
def test_sigterm_at_any_moment_stops_cleanly_and_reruns_complete(tmp_path):
    """SIGTERM as `timeout` sends it (to the command, then to its whole process group: the
    worker processes too) at random moments, eight times over the same output: every run ends
    with the one "interrupted" line and exit code 130 (it used to end, now and then, in a
    traceback from a lock, or hang in the pool's clean-up), and a final rerun completes the
    file with exactly the games an uninterrupted run writes."""
    out, games = tmp_path / "t.binpack", 60
    command = [sys.executable, "-m", "zeroforge.cli", "nnue", "gensfen", "--depth", "1"]
    settings = ["--games", "100000", "--resign-score", "3000", "--workers", "2"]
    rng = random.Random(7)
    for _ in range(8):
        with gensfen_process([*command, str(out), *settings]) as proc:
            while proc.poll() is None and not handles_sigterm(proc.pid):
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 3))
            os.kill(proc.pid, signal.SIGTERM)
            os.killpg(proc.pid, signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert err.strip().splitlines()[-1] == (
            "zeroforge nnue gensfen: interrupted; rerun the same command to resume"
        )
        assert proc.returncode == 130
    log = tmp_path / "t.binpack.gensfen.jsonl"
    done = read_results(log)
    assert 0 < len(done) < 100000
    assert len({r["game"] for r in done}) == len(done)
    settings[1] = str(len(done) + games)
    subprocess.run([*command, str(out), *settings], env=ENV, check=True, capture_output=True)
    finished = read_results(log)
    assert sorted(r["game"] for r in finished) == list(range(len(done) + games))
    assert len(list(binpack.read_binpack(out))) == sum(r["positions"] for r in finished)
    reference = tmp_path / "r.binpack"
    subprocess.run([*command, str(reference), *settings], env=ENV, check=True, capture_output=True)
    reference_log = read_results(tmp_path / "r.binpack.gensfen.jsonl")
    assert game_bytes(out, finished) == game_bytes(reference, reference_log)


def test_a_worker_that_dies_alone_is_a_clear_error_and_a_rerun_completes(tmp_path):
    out = tmp_path / "k.binpack"
    argv = [sys.executable, "-m", "zeroforge.cli", "nnue", "gensfen", str(out), "--depth", "1"]
    argv += ["--games", "100000", "--workers", "2"]
    log = tmp_path / "k.binpack.gensfen.jsonl"
    with gensfen_process(argv) as proc:
        while proc.poll() is None and not read_results(log):
            time.sleep(0.05)
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as children:
            pids = children.read().split()
        os.kill(next(int(pid) for pid in pids if "spawn_main" in cmdline(pid)), signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "died (exit code -9); rerun the same command to resume" in err.splitlines()[-1]
    done = read_results(log)
    argv[argv.index("100000")] = str(len(done) + 2)
    subprocess.run(argv, env=ENV, check=True, capture_output=True)
    assert sorted(r["game"] for r in read_results(log)) == list(range(len(done) + 2))
    game_bytes(out, read_results(log))  # the file ends where its log says
