"""Chess (Stockfish NNUE) in the training loop: the SFNNv5 network, nnue-pytorch's loss, `.nnue`
export, batches of Stockfish training data (the `Game` of train/games.py).

The loss (config section `loss`, train/losses.nnue_loss): the net's score for the side to move,
in internal units (x 600), against lambda * sigmoid(score / scale) + (1 - lambda) * result in
win-probability space; `lambda` is a number or a schedule table (train/targets.Coefficient),
e.g. nnue-pytorch's start/end lambda as `[{kind: linear, until: 100%, from: 1.0, to: 0.7}]`.
Also logged: `cp_mae`, the mean |net - search score| in internal units (a reading aid).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zeroforge.convert.nnue import export_nnue
from zeroforge.data.chess_records import SUFFIXES
from zeroforge.data.stream import stream_settings
from zeroforge.nn.checkpoint import build_network
from zeroforge.nn.sfnnv5 import NNUE2SCORE
from zeroforge.train import losses
from zeroforge.train.targets import Coefficient

LOSS_KEYS = ("lambda", "scale", "kind", "power")  # defaults: conf/network/sfnnv5.yaml


class ChessGame:
    name = "chess"
    networks = ("sfnnv5",)
    train_terms = ("loss", "cp_mae")
    val_terms = ("loss", "cp_mae")
    glance = {"cp_mae": ("cp_mae", ".1f")}
    final_name = "final.nnue"
    data_suffixes = SUFFIXES  # Stockfish's data: .binpack, .bin, .plain
    holdout_share = "{share} of the positions, in blocks of 256 chosen by a hash,"

    def __init__(self, config: Mapping[str, Any], data_paths: Any = None):
        self.network = config["network"]
        loss = config.get("loss", {})
        missing = [key for key in LOSS_KEYS if key not in loss]
        if missing:
            raise ValueError(f"loss: {missing} not set (conf/network/sfnnv5.yaml sets them)")
        self.lam = Coefficient(loss["lambda"], int(config["max_steps"]), "loss.lambda")
        self.scale, self.kind, self.power = float(loss["scale"]), loss["kind"], float(loss["power"])
        if self.kind not in losses.NNUE_LOSS_KINDS:
            raise ValueError(f"loss.kind: {self.kind!r} is not one of {losses.NNUE_LOSS_KINDS}")

    def build_net(self) -> nn.Module:
        return build_network(self.network)

    def batch_size(self, batch: Mapping[str, torch.Tensor]) -> int:
        return batch["us"].shape[0]

    def forward(self, net: nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return net(batch["us"], batch["them"], batch["bucket"])

    def losses(
        self, net: nn.Module, batch: Mapping[str, torch.Tensor], step: int, training: bool
    ) -> dict[str, torch.Tensor]:
        predicted = self.forward(net, batch).float() * NNUE2SCORE
        score, result = batch["score"], batch["result"]
        lam = self.lam(step)
        return {
            "loss": losses.nnue_loss(
                predicted, score, result, lam, self.scale, self.kind, self.power
            ),
            "cp_mae": (predicted - score.float()).abs().mean(),
        }

    def regularized(self, net: nn.Module) -> list[nn.Parameter]:
        """Every weight (transformer and layer stacks), no biases."""
        return [net.input.weight, net.fc0.weight, net.fc1.weight, net.fc2.weight]

    def after_step(self, net: nn.Module) -> None:
        net.clip_weights()

    def export(self, net: nn.Module, directory: Path, stem: str) -> Path:
        path = directory / f"{stem}.nnue"
        export_nnue(net, path)
        return path

    @staticmethod
    def dataset(
        files: list[str],
        data: Mapping[str, Any],
        seed: int,
        training: bool,
        position_range: tuple[float, float] = (0.0, 1.0),
    ) -> torch.utils.data.IterableDataset:
        from zeroforge.data.chess_dataset import ChessDataset, SkipFilters

        skip = data.get("skip", {})
        return ChessDataset(
            files,
            filters=SkipFilters(**{k: skip[k] for k in skip}),
            seed=seed,
            skip_bad=bool(data.get("skip_bad", False)),
            position_range=position_range,
            **stream_settings(data, training),
        )
