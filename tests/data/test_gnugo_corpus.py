"""The committed GNU Go corpora (data/gnugo-l1, data/gnugo-l10) are what their READMEs say:
contiguous seeds, every game finished (B+/W+, two passes or a resignation, never the move cap)
at the corpus's level, every game with its final area (TB/TW), all of it convertible."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeroforge.data.supervised import ConversionStats, convert_games
from zeroforge.formats.sgf import read_game
from zeroforge.go.geometry import PASS

DATA = Path(__file__).resolve().parents[2] / "data"

# level, first seed, games, positions (one record per move) of each committed corpus
CORPORA = {"gnugo-l1": (1, 20000, 266, 58509), "gnugo-l10": (10, 40000, 46, 10384)}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpus_games_are_finished_and_convert(name):
    level, first, games, positions = CORPORA[name]
    paths = sorted((DATA / name).glob("*.sgf"))
    assert [p.name for p in paths] == [f"{name}-s{first + i}.sgf" for i in range(games)]
    openings = set()
    for path in paths:
        game = read_game(path)
        assert game.result[:2] in ("B+", "W+") and game.komi == 7.5, path
        passes = game.moves[-1][1] == game.moves[-2][1] == PASS
        assert passes or game.result.endswith("+R"), path
        assert f"--level {level} " in game.comment and "move cap" not in game.comment, path
        assert game.area is not None, path
        openings.add(tuple(game.moves[:20]))
    assert len(openings) == games
    stats = ConversionStats()
    converted = sum(len(p) for p in convert_games(paths, stats))
    assert stats.games == games and stats.skipped_total == 0 and converted == positions
