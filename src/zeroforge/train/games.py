"""What differs between the games in the one training loop, behind one small interface.

The LightningModule (train/module.py), the recipe, the data stream and the callbacks are the same
for Go and chess; each game implements `Game` once (train/go_game.py, train/chess_game.py), in
the spirit of nnue-pytorch, which keeps model, features and serializer apart:

    build_net()                  a fresh network from config["network"]
    batch_size(batch)            positions in a batch
    forward(net, batch)          the network's output on a batch (weight averaging's BN refresh)
    losses(net, batch, step, training)
                                 {"loss": the objective, other terms and metrics to log}
    train_terms                  the terms training may log (train/<term>; metrics.csv columns)
    val_terms                    the terms validation logs (val/<term>)
    glance                       term -> (label, format) shown beside the loss in progress lines
    regularized(net)             the weights the `optim.l2` term applies to
    after_step(net)              called after each optimiser step (chess: clip to int8 ranges)
    export(net, directory, stem) write the engine's file (LZ weights / .nnue); its path, or None
    final_name                   file name of the final export in nets/
    dataset(files, data, seed, training, position_range)
                                 the streaming dataset (a data.stream.StreamDataset)
    data_suffixes                the data files a directory scan picks up (None: Go's kinds)
    holdout_share                how `position_range`'s held-out share is chosen, in words
    networks                     the `network.kind`s of the game

The game follows from the network: each game lists its `networks` (kinds); `GAMES` is the
table `game_for` looks the kind up in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from zeroforge.train.chess_game import ChessGame
from zeroforge.train.go_game import GoGame


class Game(Protocol):
    name: str
    networks: tuple[str, ...]
    train_terms: tuple[str, ...]
    val_terms: tuple[str, ...]
    glance: dict[str, tuple[str, str]]
    final_name: str
    data_suffixes: tuple[str, ...] | None
    holdout_share: str

    def build_net(self) -> nn.Module: ...

    def batch_size(self, batch: Mapping[str, torch.Tensor]) -> int: ...

    def forward(self, net: nn.Module, batch: Mapping[str, torch.Tensor]) -> Any: ...

    def losses(
        self, net: nn.Module, batch: Mapping[str, torch.Tensor], step: int, training: bool
    ) -> dict[str, torch.Tensor]: ...

    def regularized(self, net: nn.Module) -> list[nn.Parameter]: ...

    def after_step(self, net: nn.Module) -> None: ...

    def export(self, net: nn.Module, directory: Path, stem: str) -> Path | None: ...

    def dataset(
        self,
        files: list[str],
        data: Mapping[str, Any],
        seed: int,
        training: bool,
        position_range: tuple[float, float] = (0.0, 1.0),
    ) -> torch.utils.data.IterableDataset: ...


def game_for(config: Mapping[str, Any], data_paths: Any = None) -> Game:
    """The game of a module config (the sections of the run's config, train/recipe.py): the one
    whose `networks` hold `network.kind` (no kind: "lz", Go). `data_paths` (the run's
    `data.train`) only names the data in errors."""
    kind = config["network"].get("kind", "lz")
    for game in GAMES:
        if kind in game.networks:
            return game(config, data_paths)
    known = sorted(k for game in GAMES for k in game.networks)
    raise ValueError(f"network.kind {kind!r} belongs to no game; known: {known}")


GAMES = (GoGame, ChessGame)
