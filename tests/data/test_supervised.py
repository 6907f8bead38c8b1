"""SGF -> training records (data.supervised, sgf2chunks) against hand-made expectations and
against leelaz's own dump_supervised on the same games (compared as multisets)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sgfmill import boards, sgf

from zeroforge.commands import sgf2chunks
from zeroforge.data.supervised import (
    ConversionStats,
    UnusableGame,
    convert_games,
    game_positions,
)
from zeroforge.formats.chunks import Positions, read_chunk
from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, vertex_to_move
from zeroforge.play.engines import engine_path


def _game(text: str) -> sgf.Sgf_game:
    return sgf.Sgf_game.from_bytes(text.encode())


def test_capture_history_and_targets():
    # B A2, W A1 (atari), B B1 captures A1; then W passes: 4 records.
    game = _game("(;GM[1]SZ[19]KM[7.5]RE[W+R];B[ar];W[as];B[bs];W[])")
    pos = game_positions(game)
    a1, a2, b1 = vertex_to_move("A1"), vertex_to_move("A2"), vertex_to_move("B1")
    assert list(pos.side_to_move) == [0, 1, 0, 1]
    assert list(pos.winner) == [-1, 1, -1, 1]  # white won
    assert [int(np.argmax(p)) for p in pos.policy] == [a2, a1, b1, PASS]
    assert (pos.policy.sum(axis=1) == 1).all()
    assert pos.planes[0].sum() == 0  # empty board, no history
    # Record 3 (white to move after the capture): own stones now none, history t-1 has A1.
    rec = pos.planes[3]
    assert rec[0].sum() == 0 and rec[1, a1] == 1 and rec[1].sum() == 1 and rec[2].sum() == 0
    assert rec[8, a2] == 1 and rec[8, b1] == 1 and rec[8].sum() == 2  # black now
    assert rec[9, a2] == 1 and rec[9].sum() == 1 and rec[10, a2] == 1  # one, two moves ago
    assert rec[3:8].sum() == 0 and rec[11:16].sum() == 0  # the empty board, then nothing


def test_handicap_setup_is_the_anchor_and_white_moves_first():
    game = _game("(;GM[1]SZ[19]HA[2]KM[0.5]RE[B+3.5]AB[dd][pp];W[dp];B[pd])")
    pos = game_positions(game)
    assert list(pos.side_to_move) == [1, 0]
    assert list(pos.winner) == [-1, 1]
    stones = pos.planes[0]
    assert stones[8].sum() == 2  # black's handicap stones are the opponent's, at t
    assert stones[9:16].sum() == 0 and stones[1:8].sum() == 0  # the setup has no history


@pytest.mark.parametrize(
    "text, reason",
    [
        ("(;GM[1]SZ[9]RE[B+R];B[cc])", "board size"),
        ("(;GM[1]SZ[19];B[cc])", "no result"),
        ("(;GM[1]SZ[19]RE[0];B[cc])", "is not B"),
        ("(;GM[1]SZ[19]RE[W+Time];B[cc])", "on time"),
        ("(;GM[1]SZ[19]RE[B+R];B[cc];B[dd])", "alternate"),
        ("(;GM[1]SZ[19]RE[B+R];B[cc];W[cc])", "illegal"),
        ("(;GM[1]SZ[19]RE[B+R])", "no moves"),
    ],
)
def test_unusable_games(text, reason):
    with pytest.raises(UnusableGame, match=reason):
        game_positions(_game(text))


def test_skips_are_counted_not_fatal(tmp_path):
    (tmp_path / "good.sgf").write_text("(;GM[1]SZ[19]RE[B+R];B[cc];W[dd])")
    (tmp_path / "many.sgf").write_text("(;SZ[9]RE[B+R];B[cc])(;SZ[19];B[cc])(;SZ[19]RE[0];B[aa])")
    (tmp_path / "broken.sgf").write_text("this is not sgf")
    stats = ConversionStats()
    games = list(convert_games(sorted(tmp_path.glob("*.sgf")), stats))
    assert len(games) == 1 and stats.games == 1 and stats.positions == 2
    assert stats.skipped_total == 4


def random_game(seed: int, handicap: int, moves: int) -> GameRecord:
    """A random legal game (captures, ko, passes), as a fast stand-in for real SGFs."""
    rng = random.Random(seed)
    board = boards.Board(19)
    stones = rng.sample(range(361), handicap)
    for m in stones:
        board.play(*divmod(m, 19), "b")
    colour, ko, played = ("w" if stones else "b"), None, []
    for _ in range(moves):
        move = PASS
        for _ in range(0 if rng.random() < 0.04 else 50):
            m = rng.randrange(361)
            point = divmod(m, 19)
            if board.get(*point) is not None or point == ko:
                continue
            after = board.copy()
            new_ko = after.play(*point, colour)
            if after.get(*point) is not None:  # not suicide
                board, ko, move = after, new_ko, m
                break
        if move == PASS:
            ko = None
        played.append((colour, move))
        colour = "w" if colour == "b" else "b"
    result = rng.choice(["B+R", "W+3.5", "B+12.5", "W+Resign"])
    return GameRecord(moves=played, komi=7.5, result=result, handicap_stones=stones)


# Setup corner cases, checked against leelaz: AW + PL (kept); AW capturing AB stones, then the
# wrong colour to move (skipped by both); HA with its AB in the next node (skipped by both); a
# bare `B+` result, a comment and a `tt` pass (kept).
EDGE_GAMES = """
(;GM[1]SZ[19]HA[2]KM[0.5]RE[B+R];AB[dd][pp];W[dp];B[pd];W[qq];B[])
(;GM[1]SZ[19]KM[7.5]RE[W+2.5]AB[dd][pp]AW[dp]PL[W];W[pd];B[qq];W[];B[cc])
(;GM[1]SZ[19]KM[7.5]RE[B+Resign]AB[aa][ba]AW[ab][bb][ca];W[cb];B[da];W[])
(;GM[1]SZ[19]KM[7.5]RE[B+]AB[dd];W[pd];B[qq];W[pp];B[dp]C[comment];W[tt])
"""


def record_keys(positions: Positions) -> list[bytes]:
    return sorted(
        positions.planes[i].tobytes()
        + positions.side_to_move[i].tobytes()
        + positions.policy[i].tobytes()
        + positions.winner[i].tobytes()
        for i in range(len(positions))
    )


def dump_supervised(lz_weights: Path, sgf_file: Path, out_base: Path) -> Positions:
    argv = [engine_path("leelaz"), "--cpu-only", "-g", "--noponder", "-q", "-w", str(lz_weights)]
    command = f"dump_supervised {sgf_file} {out_base}\nquit\n"
    run = subprocess.run(argv, input=command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    chunks = sorted(out_base.parent.glob(f"{out_base.name}.*.gz"))
    return Positions.concat([read_chunk(p).positions for p in chunks if p.stat().st_size > 30])


def collection(paths: list[Path], target: Path) -> Path:
    target.write_text("\n".join(p.read_text() for p in paths))
    return target


@pytest.mark.engine
def test_equals_dump_supervised_on_random_games(lowercase_tmp, lz_weights):
    games = lowercase_tmp / "games"
    games.mkdir()
    for i, handicap in enumerate([0, 0, 2, 4, 9, 3]):
        write_game(games / f"r{i}.sgf", random_game(i, handicap, 300 + 40 * i))
    # Unusable games in the same file: leelaz skips them, so must we.
    (games / "z.sgf").write_text("(;SZ[9]RE[B+R];B[cc])(;SZ[19];B[cc])(;SZ[19]RE[0];B[aa])")
    (games / "edge.sgf").write_text(EDGE_GAMES)
    paths = sorted(games.glob("*.sgf"))
    theirs = dump_supervised(
        lz_weights, collection(paths, lowercase_tmp / "all.sgfs"), lowercase_tmp / "sup"
    )
    out = lowercase_tmp / "ours"
    assert sgf2chunks.main([str(games), "--out", str(out), "--games-per-chunk", "4"]) == 0
    ours = Positions.concat([read_chunk(p).positions for p in sorted(out.glob("*.gz"))])
    assert len(sorted(out.glob("*.gz"))) == 2  # 6 + 2 usable games, 4 per chunk
    assert len(ours) == len(theirs) > 6 * 300
    assert record_keys(ours) == record_keys(theirs)


@pytest.mark.engine
def test_equals_dump_supervised_on_gnugo_games(lowercase_tmp, lz_weights):
    from zeroforge.commands.gnugo_games import main as gnugo_games

    games = lowercase_tmp / "gnugo"
    argv = [
        "--games",
        "2",
        "--level",
        "0",
        "--max-moves",
        "24",
        "--workers",
        "2",
        "--seed",
        "7",
        "--out",
        str(games),
    ]
    assert gnugo_games(argv + ["--handicap", "0"]) == 0
    assert gnugo_games(argv + ["--handicap", "3", "--seed", "70", "--chunks"]) == 0
    assert len(read_chunk(games / "chunks" / "sgf.0.gz").positions) == 2 * 24
    paths = sorted(games.glob("*.sgf"))
    assert len(paths) == 4
    theirs = dump_supervised(
        lz_weights, collection(paths, lowercase_tmp / "all.sgfs"), lowercase_tmp / "sup"
    )
    stats = ConversionStats()
    ours = Positions.concat(list(convert_games(paths, stats)))
    assert stats.games == 4 and len(ours) == 4 * 24
    assert record_keys(ours) == record_keys(theirs)


def test_equals_the_shipped_dump_supervised_sample():
    """data/sample/gnugo: 8 GNU Go games and leelaz's own dump_supervised of them."""
    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "gnugo"
    stats = ConversionStats()
    ours = Positions.concat(list(convert_games([sample / "gnugo-games.sgf"], stats)))
    theirs = read_chunk(sample / "supervised.0.gz").positions
    assert stats.games == 8 and len(ours) == len(theirs) == 1956
    assert record_keys(ours) == record_keys(theirs)


@pytest.mark.engine
@pytest.mark.slow
def test_full_gnugo_game(lowercase_tmp, lz_weights):
    """One whole level-1 game (about 200 moves, ~17 s): played to two passes or resignation,
    scored by GNU Go's final_score, converted equal to dump_supervised."""
    from zeroforge.commands.gnugo_games import main as gnugo_games
    from zeroforge.formats.sgf import read_game

    games = lowercase_tmp / "full"
    assert gnugo_games(["--games", "1", "--level", "1", "--seed", "5", "--out", str(games)]) == 0
    path = next(games.glob("*.sgf"))
    game = read_game(path)
    assert "move cap" not in game.comment and game.result[:2] in ("B+", "W+")
    ended_by_passes = game.moves[-1][1] == game.moves[-2][1] == PASS
    assert ended_by_passes or game.result.endswith("+R")
    theirs = dump_supervised(lz_weights, path, lowercase_tmp / "sup")
    ours = game_positions(sgf.Sgf_game.from_bytes(path.read_bytes()))
    assert len(ours) == len(game.moves) > 100
    assert record_keys(ours) == record_keys(theirs)


def test_game_targets_read_the_final_area_for_the_side_to_move():
    from zeroforge.data.supervised import game_targets

    # SGF rows count from the top: [as] is A1. Black owns A1 B1 C1, white T1 T19 S1; komi 0.5
    game = _game(
        "(;GM[1]FF[4]SZ[19]KM[0.5]RE[B+0.5];B[as];W[ss];B[bs];W[rs]TB[as][bs][cs]TW[ss][sa][rs])"
    )
    targets = game_targets(game)
    assert np.array_equal(targets.positions.side_to_move, [0, 1, 0, 1])
    owner = np.zeros(361, dtype=np.int8)
    for point in ("A1", "B1", "C1"):
        owner[vertex_to_move(point)] = 1
    for point in ("T1", "T19", "S1"):
        owner[vertex_to_move(point)] = -1
    assert np.array_equal(targets.ownership[0], owner)
    assert np.array_equal(targets.ownership[1], -owner)
    assert targets.ownership.dtype == np.int8
    assert np.allclose(targets.score, [-0.5, 0.5, -0.5, 0.5])  # 3 - 3 - 0.5 for black


def test_game_targets_need_the_final_area():
    from zeroforge.data.supervised import game_targets

    with pytest.raises(UnusableGame, match="no final area"):
        game_targets(_game("(;GM[1]FF[4]SZ[19]KM[7.5]RE[B+R];B[pd];W[dd])"))
    stats = ConversionStats()
    assert list(convert_games([], stats, targets=True)) == []


def test_game_targets_read_the_teacher_for_the_side_to_move():
    from zeroforge.data.supervised import game_targets

    # ZM/ZS on the first two moves only; ZS is black's lead, the shard holds the side to move's
    game = _game(
        "(;GM[1]FF[4]SZ[19]KM[0.5]RE[B+0.5]ZL[1];B[as]ZM[pd:75.00][dp:74.01][aa:0.00]ZS[-7.5]"
        ";W[ss]ZM[]ZS[2.9];B[bs];W[rs]TB[as][bs][cs]TW[ss][sa][rs])"
    )
    targets = game_targets(game)
    assert np.array_equal(targets.has_teacher, [1, 1, 0, 0])
    assert (
        targets.teacher_moves[0].tolist()
        == [vertex_to_move("Q16"), vertex_to_move("D4"), vertex_to_move("A19")] + [-1] * 7
    )
    assert np.allclose(targets.teacher_values[0, :4], [75.0, 74.01, 0.0, 0.0])  # 0.00: tiny
    assert np.all(targets.teacher_moves[1:] == -1)  # ZM[]: GNU Go named no move
    assert np.allclose(targets.teacher_score, [-7.5, -2.9, 0.0, 0.0])
    plain = game_targets(_game("(;GM[1]FF[4]SZ[19]KM[0.5]RE[B+0.5];B[as];W[ss]TB[as]TW[ss])"))
    assert not plain.has_teacher.any() and np.all(plain.teacher_moves == -1)


@pytest.mark.parametrize(
    "node, reason",
    [("ZM[pd:75.00]", "must come together"), ("ZM[pd]ZS[1.0]", "not a point:value"),
     ("ZM[pd:-0.01]ZS[1.0]", "not a point:value"), ("ZM[tt:1]ZS[1.0]", "not a point:value"), ("ZM[pd:1]ZS[W+1]", "could not convert"),
     ("ZM[pd:1]ZS[nan]", "not a finite number")],
)  # fmt: skip
def test_a_malformed_teacher_property_names_the_node(node, reason):
    from zeroforge.data.supervised import game_targets

    game = _game(f"(;GM[1]FF[4]SZ[19]KM[0.5]RE[B+0.5];B[as];W[ss]{node}TB[as]TW[ss])")
    with pytest.raises(UnusableGame, match=f"node 2: .*{reason}"):
        game_targets(game)
