"""The LightningModule of training, for either game: network, losses, metrics, optimiser and LR
schedule.

What differs between Go and chess (the network, a batch's losses, the weights L2 applies to, what
follows an optimiser step) is the run's `Game` (train/games.py), chosen by the network's kind;
this module holds what is common: L2, adaptive gradient clipping, logging, the optimiser and the
LR segment schedule. It takes the plain config sections it needs (network, optim, schedule, loss,
init, max_steps, channels_last, ...) as one dict, saved as its hyperparameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from zeroforge.nn.checkpoint import CHECKPOINT_KEY, checkpoint_section
from zeroforge.train import losses
from zeroforge.train.agc import DEFAULT_EPS, DEFAULT_EXCLUDE, AdaptiveGradClipper
from zeroforge.train.games import game_for
from zeroforge.train.init import initialize
from zeroforge.train.optim import build_optimizer
from zeroforge.train.schedules import SegmentSchedule


class TrainModule(pl.LightningModule):
    def __init__(self, config: dict[str, Any], data_paths: Any = None):
        """`data_paths`: the run's training data (`data.train`, resolved by the recipe), only
        named in errors; like every data setting, kept out of the hyperparameters (and so out
        of checkpoints)."""
        super().__init__()
        self.save_hyperparameters(ignore=["data_paths"])
        self.config = config
        self.game = game_for(config, data_paths)
        self.net = self.game.build_net()
        initialize(self.net, config.get("init", {}), int(config.get("seed", 0)))
        self.l2 = float(config["optim"].get("l2", losses.L2_DEFAULT))
        agc_clip = config["optim"].get("agc_clip")
        self.grad_clipper = (
            AdaptiveGradClipper(
                self.net,
                float(agc_clip),
                float(config["optim"].get("agc_eps", DEFAULT_EPS)),
                config["optim"].get("agc_exclude", DEFAULT_EXCLUDE),
            )
            if agc_clip
            else None
        )

    def forward(self, batch: Mapping[str, torch.Tensor]) -> Any:
        return self.game.forward(self.net, batch)

    def compute_losses(
        self, batch: Mapping[str, torch.Tensor], with_l2: bool = True
    ) -> dict[str, torch.Tensor]:
        """The loss terms; `loss` includes the `optim.l2` term only with `with_l2` (training:
        validation reports the held-out data loss, comparable between L2 settings)."""
        terms = self.game.losses(self.net, batch, self.global_step, self.training)
        if self.l2 > 0.0 and with_l2:
            terms["l2"] = losses.l2_penalty(self.game.regularized(self.net))
            terms["loss"] = terms["loss"] + self.l2 * terms["l2"]
        return terms

    def training_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        terms = self.compute_losses(batch)
        size = self.game.batch_size(batch)
        self.log_dict({f"train/{k}": v.detach() for k, v in terms.items()}, batch_size=size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=size)
        return terms["loss"]

    def validation_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> None:
        terms = self.compute_losses(batch, with_l2=False)
        shown = {f"val/{k}": terms[k] for k in self.game.val_terms}
        self.log_dict(shown, batch_size=self.game.batch_size(batch), sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        decayed = self.game.regularized(self.net)
        optimizer = build_optimizer(self.config["optim"], self.net, decayed)
        schedule = SegmentSchedule(self.config["schedule"]["segments"], self.config["max_steps"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Gradients here are the true ones (unscaled under 16-mixed): where AGC must act.
        if self.grad_clipper is not None:
            self.grad_clipper()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.game.after_step(self.net)  # (after the optimiser step of this batch)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # the net's own description: it may hold what the game added (Go's aux heads)
        checkpoint[CHECKPOINT_KEY] = checkpoint_section(self.net.config())
