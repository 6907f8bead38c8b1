"""Chess in the one training loop: nnue-pytorch's loss, and the same TrainModule fitting an
SFNNv5 net on a fixed batch of real positions (weights clipped after every step)."""

from __future__ import annotations

import math
from pathlib import Path

import chess
import lightning.pytorch as pl
import pytest
import torch
import yaml

import zeroforge.conf
from tests.nn.chess_batches import board_batch
from tests.train.test_module import fit
from zeroforge.analysis.nnue_check import random_positions
from zeroforge.nn.sfnnv5 import SFNNv5
from zeroforge.train.chess_game import ChessGame
from zeroforge.train.losses import nnue_loss
from zeroforge.train.module import TrainModule


def chess_batch(count: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Real positions with made-up search scores (the net can only learn them by heart)."""
    boards = [chess.Board(fen) for fen in random_positions(count, seed=seed)]
    us, them, bucket = board_batch(boards)
    score = torch.randint(-800, 800, (count,), generator=torch.Generator().manual_seed(seed))
    score = score.float()
    return {
        "us": us.int(),
        "them": them.int(),
        "bucket": bucket,
        "score": score,
        "result": torch.sign(score),
    }


def sfnnv5_loss() -> dict:
    """The loss settings of conf/network/sfnnv5.yaml (their one home)."""
    conf = Path(zeroforge.conf.__file__).parent / "network" / "sfnnv5.yaml"
    return yaml.safe_load(conf.read_text())["loss"]


def chess_config(steps: int, **loss) -> dict:
    return {
        "network": {"kind": "sfnnv5", "factorized": True, "description": ""},
        # (Ranger, the chess default, starts slowly: RAdam's rectified first steps)
        "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": 0.0, "l2": 0.0},
        "max_steps": steps,
        "schedule": {"segments": [{"kind": "constant", "until": "100%", "from": 1.0}]},
        "loss": {**sfnnv5_loss(), **loss},
        "init": {"kind": "default"},
        "seed": 0,
    }


def test_nnue_loss_values():
    predicted = torch.tensor([0.0, 361.0, -722.0])
    score = torch.tensor([0.0, 361.0, 100.0])
    result = torch.tensor([1.0, 0.0, -1.0])
    scale = 361.0
    # a perfect fit on the scores is zero for both kinds
    for kind in ("power", "cross_entropy"):
        assert nnue_loss(score, score, result, 1.0, scale, kind).item() == pytest.approx(
            0, abs=1e-6
        )
    # lambda = 0: only the results count; by hand for the first position: |0.5 - 1| ** 2
    by_hand = (0.5**2 + (1 / (1 + math.exp(-1)) - 0.5) ** 2 + (1 / (1 + math.exp(2))) ** 2) / 3
    assert nnue_loss(predicted, score, result, 0.0, scale, power=2.0).item() == pytest.approx(
        by_hand
    )
    half = nnue_loss(predicted, score, result, 0.5, scale, power=2.0)
    assert 0 < half.item() < by_hand
    with pytest.raises(ValueError, match="loss.kind"):
        nnue_loss(predicted, score, result, 1.0, scale, kind="huber")


def test_lambda_can_follow_a_schedule():
    game = ChessGame(chess_config(100, **{"lambda": [{"kind": "linear", "until": "100%",
                                                      "from": 1.0, "to": 0.0}]}))  # fmt: skip
    assert game.lam(0) == 1.0 and game.lam(50) == pytest.approx(0.5) and game.lam(100) == 0.0
    with pytest.raises(ValueError, match="loss.lambda"):
        ChessGame(chess_config(100, **{"lambda": 1.5}))


def test_the_loss_settings_come_from_the_config_alone():
    config = chess_config(10)
    del config["loss"]["scale"]
    with pytest.raises(ValueError, match=r"loss: \['scale'\] not set"):
        ChessGame(config)


def test_train_module_fits_chess_positions_and_clips_weights():
    pl.seed_everything(0, verbose=False)
    batch = chess_batch(64)
    module = TrainModule(chess_config(30))
    assert isinstance(module.net, SFNNv5) and module.game.name == "chess"
    before = module.compute_losses(batch)
    with torch.no_grad():
        module.net.fc0.weight[0, 0] = 9.0  # out of int8 reach: the step after clips it
    fit(module, [batch], 30)
    after = module.compute_losses(batch)
    assert after["loss"] < 0.5 * before["loss"]
    assert after["cp_mae"] < before["cp_mae"]
    assert module.net.fc0.weight.abs().max() <= 127 / 64


def test_l2_reaches_the_transformer():
    module = TrainModule({**chess_config(1), "optim": {"name": "sgd", "lr": 0.0, "l2": 1e-3}})
    terms = module.compute_losses(chess_batch(4))
    transformer = module.net.input.weight.square().sum() / 2
    assert terms["l2"] > transformer  # every weight counts, the transformer's included
