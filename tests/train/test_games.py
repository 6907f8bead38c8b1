"""train/games.py: the game of a run follows from its network's kind, through one table."""

import pytest

from zeroforge.train.chess_game import ChessGame
from zeroforge.train.games import GAMES, game_for
from zeroforge.train.go_game import GoGame

GO = {"network": {"kind": "lz", "blocks": 1, "filters": 8}, "max_steps": 1}
CHESS = {"network": {"kind": "sfnnv5"}, "max_steps": 1}
CHESS["loss"] = {"lambda": 1.0, "scale": 361, "kind": "power", "power": 2.5}


def test_each_network_kind_belongs_to_one_game():
    kinds = [kind for game in GAMES for kind in game.networks]
    assert len(kinds) == len(set(kinds))
    assert isinstance(game_for(GO), GoGame) and isinstance(game_for(CHESS), ChessGame)
    assert isinstance(game_for({**GO, "network": {"blocks": 1, "filters": 8}}), GoGame)  # no kind


def test_an_unknown_kind_is_named():
    with pytest.raises(ValueError, match=r"network.kind 'transformer' belongs to no game"):
        game_for({**GO, "network": {"kind": "transformer"}})
