"""The committed GNU Go corpus (data/gnugo-l1) is what its README says: contiguous seeds, every
game finished (B+/W+, two passes or a resignation, never the move cap), all of it convertible."""

from __future__ import annotations

from pathlib import Path

from zeroforge.data.supervised import ConversionStats, convert_games
from zeroforge.formats.sgf import read_game
from zeroforge.go.geometry import PASS

CORPUS = Path(__file__).resolve().parents[2] / "data" / "gnugo-l1"
GAMES = 240


def test_corpus_games_are_finished_and_convert():
    paths = sorted(CORPUS.glob("*.sgf"))
    assert [p.name for p in paths] == [f"gnugo-l1-s{20000 + i}.sgf" for i in range(GAMES)]
    openings = set()
    for path in paths:
        game = read_game(path)
        assert game.result[:2] in ("B+", "W+") and game.komi == 7.5, path
        passes = game.moves[-1][1] == game.moves[-2][1] == PASS
        assert passes or game.result.endswith("+R"), path
        assert "--level 1" in game.comment and "move cap" not in game.comment, path
        openings.add(tuple(game.moves[:20]))
    assert len(openings) == GAMES
    stats = ConversionStats()
    positions = sum(len(p) for p in convert_games(paths, stats))
    assert stats.games == GAMES and stats.skipped_total == 0 and positions == 52745
