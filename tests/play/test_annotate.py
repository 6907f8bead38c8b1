"""Final areas by GNU Go (play/scoring.final_area, play/annotate, `zeroforge annotate`): the
real engine judges a constructed finished board and real GNU Go games; the SGF keeps everything
else, and `sgf2chunks --shards` turns TB/TW into ownership and score targets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from zeroforge.commands import annotate, sgf2chunks
from zeroforge.formats.sgf import (
    GameRecord,
    game_to_bytes,
    parse_collection,
    read_game,
    read_games,
    write_collection,
)
from zeroforge.formats.shards import read_shard
from zeroforge.go.geometry import vertex_to_move
from zeroforge.play.scoring import game_area

pytestmark = pytest.mark.engine
CORPUS = Path(__file__).parents[2] / "data" / "sample" / "gnugo48"
GNUGO_L1 = Path(__file__).parents[2] / "data" / "gnugo-l1"


@pytest.mark.parametrize("dead", [False, True])
def test_area_counts_to_gnugos_score_and_gives_dead_stones_to_the_other_side(settled_game, dead):
    black, white = game_area(settled_game(dead), 7.5)
    assert (len(black), len(white)) == (190, 171)  # B+11.5, as final_score says
    assert not set(black) & set(white)
    assert (vertex_to_move("E5") in black) and (vertex_to_move("E5") not in white)


def test_annotate_writes_tb_tw_keeps_the_rest_and_resumes(tmp_path, settled_game, capsys):
    record = GameRecord(settled_game(True), "b", "w", 7.5, "B+11.5", comment="keep me")
    path = tmp_path / "two.sgf"
    path.write_bytes(game_to_bytes(record) + game_to_bytes(record))  # a collection of two
    assert annotate.main([str(tmp_path)]) == 0
    assert "1 files annotated (2 games)" in capsys.readouterr().out
    games = read_games(path)
    assert len(games) == 2 and all(g.comment == "keep me" and g.result == "B+11.5" for g in games)
    black, white = games[1].area
    assert len(black) - len(white) - games[1].komi == 11.5
    before = path.read_bytes()
    assert annotate.main([str(path)]) == 0  # nothing left to do
    assert "0 files annotated (0 games)" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_real_games_margin_equals_the_result_and_becomes_targets(tmp_path, capsys):
    names = ["gnugo-l1-s7003.sgf", "gnugo-l1-s7001.sgf"]  # B+3.5 and W+6.5, two passes
    for name in names:
        shutil.copy(CORPUS / name, tmp_path / name)
    assert annotate.main([str(tmp_path / n) for n in names]) == 0
    for name in names:
        game = read_game(tmp_path / name)
        black, white = game.area
        margin = len(black) - len(white) - game.komi
        assert game.result == (f"B+{margin:g}" if margin > 0 else f"W+{-margin:g}")
    out = tmp_path / "shards"
    assert sgf2chunks.main([str(tmp_path), "--out", str(out), "--shards"]) == 0
    assert "2 games" in capsys.readouterr().out
    shard = read_shard(out / "sgf.0.zfs")
    first = read_game(tmp_path / names[1])  # sgf_paths sorts: s7001 first
    n = len(first.moves)
    black_to_move = shard.positions.side_to_move[:n] == 0
    assert np.all(shard.score[:n][black_to_move] == -6.5)
    assert np.all(shard.score[:n][~black_to_move] == 6.5)
    owner = np.zeros(361, dtype=np.int8)
    owner[list(first.area[0])], owner[list(first.area[1])] = 1, -1
    assert np.array_equal(shard.ownership[0], owner)  # black moves first
    assert np.array_equal(shard.ownership[1], -owner)


def _copy_without_area(source: Path, target: Path) -> Path:
    games = parse_collection(source)
    for game in games:
        game.get_last_node().unset("TB")
        game.get_last_node().unset("TW")
    write_collection(target, games)
    return target


def test_a_files_areas_do_not_depend_on_the_files_judged_before_it(tmp_path, capsys):
    """annotate used to judge every file with one GNU Go; now each game gets a fresh one, so a
    file's TB/TW cannot depend on the files before it (docs/ENGINES.md). A game ended by
    resignation (GNU Go reads its open fights out) judged alone, then after a resigned game and
    a finished one."""
    names = ["gnugo-l1-s20234.sgf", "gnugo-l1-s20005.sgf", "gnugo-l1-s20098.sgf"]
    alone, after = tmp_path / "alone", tmp_path / "after"
    alone.mkdir(), after.mkdir()
    paths = [_copy_without_area(GNUGO_L1 / name, after / name) for name in names]
    target = _copy_without_area(GNUGO_L1 / names[-1], alone / names[-1])
    assert read_game(target).area is None
    assert annotate.main([str(target)]) == 0
    assert annotate.main([str(path) for path in paths]) == 0  # one worker: in this order
    assert "3 files annotated (3 games)" in capsys.readouterr().out
    assert read_game(target).area == read_game(paths[-1]).area is not None
