"""Teacher targets by the real GNU Go (`zeroforge annotate --teacher`, play/annotate.teach_file):
every move of a real game gets GNU Go's candidates (legal moves, best first) and its score
estimate, the file resumes and stays byte-identical on a rerun, a bad game is named by file,
game and node, and `sgf2chunks --shards` carries the targets for the side to move."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sgfmill import boards

from zeroforge.commands import annotate, sgf2chunks
from zeroforge.formats.sgf import TEACHER_LEVEL, parse_collection, teacher
from zeroforge.formats.shards import read_shard
from zeroforge.go.geometry import BOARD_SIZE, PASS, vertex_to_move

pytestmark = pytest.mark.engine
GAME = Path(__file__).parents[2] / "data" / "gnugo-l1" / "gnugo-l1-s20000.sgf"  # 149 moves


def test_every_move_gets_legal_candidates_and_a_score_and_shards_carry_them(tmp_path, capsys):
    path = tmp_path / "game.sgf"
    shutil.copy(GAME, path)
    assert annotate.main(["--teacher", str(path)]) == 0
    assert "1 files annotated (1 games)" in capsys.readouterr().out
    (game,) = parse_collection(path)
    assert game.get_root().get(TEACHER_LEVEL) == "1"  # from its comment `gnugo --level 1 ...`
    board, judged = boards.Board(BOARD_SIZE), []
    for node in game.get_main_sequence()[1:]:
        colour, point = node.get_move()
        candidates, black_lead = teacher(node)
        values = [value for _, value in candidates]
        assert len(candidates) <= 10 and values == sorted(values, reverse=True)
        assert all(value >= 0 for value in values)  # above 0, printed as %.2f
        for move, _ in candidates:  # a point GNU Go may play: empty before the move
            assert move != PASS and board.get(*divmod(move, BOARD_SIZE)) is None
        judged.append((colour, point, candidates, black_lead))
        if point is not None:
            board.play(*point, colour)
    assert len(judged) == 149
    assert judged[0][2][0][0] == vertex_to_move("Q16") and judged[0][3] == -7.5  # W+7.5: komi
    named = sum(bool(c) for _, _, c, _ in judged)
    top = sum(bool(c) and c[0][0] == p[0] * 19 + p[1] for _, p, c, _ in judged if p)
    assert named > 120 and top > 0.8 * named  # GNU Go at its own level: mostly its own move
    assert not judged[-1][2]  # the closing pass: no move worth anything

    before = path.read_bytes()
    assert annotate.main(["--teacher", str(tmp_path)]) == 0  # resumed: nothing left to do
    out = capsys.readouterr().out
    assert "0 files annotated (0 games)" in out and "1 were annotated before" in out
    assert path.read_bytes() == before

    out = tmp_path / "shards"
    assert sgf2chunks.main([str(path), "--out", str(out), "--shards"]) == 0
    shard = read_shard(out / "sgf.0.zfs")
    assert shard.has_teacher.all() and len(shard) == 149
    view = np.where(shard.positions.side_to_move == 0, 1, -1)
    assert np.allclose(shard.teacher_score, [j[3] for j in judged] * view)
    for row, (_, _, candidates, _) in enumerate(judged):
        k = len(candidates)
        assert shard.teacher_moves[row, :k].tolist() == [m for m, _ in candidates]
        assert np.all(shard.teacher_moves[row, k:] == -1)
        assert np.allclose(shard.teacher_values[row, :k], [v for _, v in candidates])


def test_the_same_game_gets_the_same_targets_whatever_came_before(tmp_path, capsys):
    """The engine is reused from file to file; its random seed is reset for every game."""
    (game,) = parse_collection(GAME)
    game.get_main_sequence()[38][0].delete()  # the first 38 moves
    text = game.serialise()
    for name in ("a.sgf", "b.sgf"):
        (tmp_path / name).write_bytes(text)
    assert annotate.main(["--teacher", "--level", "2", str(tmp_path)]) == 0
    assert "2 files annotated" in capsys.readouterr().out
    assert (tmp_path / "a.sgf").read_bytes() == (tmp_path / "b.sgf").read_bytes()
    assert parse_collection(tmp_path / "a.sgf")[0].get_root().get(TEACHER_LEVEL) == "2"


def test_a_move_gnugo_refuses_names_file_game_and_node(tmp_path, capsys):
    path = tmp_path / "bad.sgf"
    good = b"(;GM[1]FF[4]SZ[19]KM[7.5]RE[B+R];B[pd];W[dd])"
    path.write_bytes(good + b"(;GM[1]FF[4]SZ[19]KM[7.5]RE[B+R];B[pd];W[dd];B[pd])")
    before = path.read_bytes()
    assert annotate.main(["--teacher", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: game 2: node 3:" in err and "Traceback" not in err
    assert path.read_bytes() == before  # nothing half-written
