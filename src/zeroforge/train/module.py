"""The LightningModule of training: network, targets, loss, metrics, optimiser and LR schedule.

Networks come from `nn.checkpoint.build_network(cfg.network)`, the one factory (`norm: bn`/`nf`).
The module takes the plain config sections it needs (network, optim, schedule, loss, init,
max_steps, channels_last) as one dict, saved as its hyperparameters. Training targets are made
in one method, `targets`, so a z/q blend or a teacher's outputs change that method only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from zeroforge.nn.checkpoint import build_network
from zeroforge.nn.heads import head_penalty
from zeroforge.train import losses
from zeroforge.train.agc import DEFAULT_EPS, DEFAULT_EXCLUDE, AdaptiveGradClipper
from zeroforge.train.distill import Distillation, add_kd_terms
from zeroforge.train.init import initialize
from zeroforge.train.optim import build_optimizer
from zeroforge.train.schedules import SegmentSchedule
from zeroforge.train.targets import ValueTarget, add_value_terms, make_targets

CHECKPOINT_KEY = "zeroforge"  # our own section of a Lightning checkpoint (network description)


class LZTrainModule(pl.LightningModule):
    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters()
        self.config = config
        self.net = build_network(config["network"])
        initialize(self.net, config.get("init", {}), int(config.get("seed", 0)))
        self.channels_last = bool(config.get("channels_last", False))
        if self.channels_last:
            self.net.to(memory_format=torch.channels_last)
        loss_cfg = config.get("loss", {})
        self.value_weight = float(loss_cfg.get("value_weight", 1.0))
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
        # The value target (z/q blend, train/targets.py) and teachers (train/distill.py; they are
        # kept out of this module's parameters and checkpoints).
        data_paths = config.get("data", {}).get("train")
        self.value_target = ValueTarget(config.get("value"), int(config["max_steps"]), data_paths)
        self.distillation = Distillation.from_config(config.get("kd"), int(config["max_steps"]))

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(self.prepare(planes))

    def prepare(self, planes: torch.Tensor) -> torch.Tensor:
        """uint8 planes [B,18,19,19] from the data pipeline -> float network input."""
        planes = planes.to(torch.float32)
        if self.channels_last:
            planes = planes.contiguous(memory_format=torch.channels_last)
        return planes

    def targets(self, batch: Mapping[str, torch.Tensor], planes: torch.Tensor) -> dict[str, Any]:
        """What the heads are trained towards: the search's visit fractions, the result z (or a
        z/q blend) and, while training with teachers, their outputs on the same input `planes`."""
        return make_targets(
            batch, planes, self.global_step, self.training, self.value_target, self.distillation
        )

    def compute_losses(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        planes = self.prepare(batch["planes"])
        policy_logits, value = self.net(planes)
        target = self.targets(batch, planes)
        terms = {
            "policy_loss": losses.policy_cross_entropy(policy_logits, target["policy"]),
            "value_mse": losses.value_mse(value, target["value"]),
            "accuracy": losses.top1_accuracy(policy_logits, target["policy"]),
        }
        terms["loss"] = terms["policy_loss"] + self.value_weight * terms["value_mse"]
        add_value_terms(terms, value, target)
        add_kd_terms(terms, policy_logits, value, target, self.value_weight)
        if self.l2 > 0.0:
            terms["l2"] = losses.l2_penalty(losses.regularized_parameters(self.net))
            terms["loss"] = terms["loss"] + self.l2 * terms["l2"]
        head_l2 = head_penalty(self.net)  # a residual head's own L2 (nn/heads.py)
        if head_l2 is not None:
            terms["head_l2"] = head_l2
            terms["loss"] = terms["loss"] + head_l2
        return terms

    def training_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        terms = self.compute_losses(batch)
        size = batch["planes"].shape[0]
        self.log_dict({f"train/{k}": v.detach() for k, v in terms.items()}, batch_size=size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=size)
        return terms["loss"]

    def validation_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> None:
        terms = self.compute_losses(batch)
        shown = {f"val/{k}": terms[k] for k in ("policy_loss", "value_mse", "accuracy", "loss")}
        self.log_dict(shown, batch_size=batch["planes"].shape[0], sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = build_optimizer(self.config["optim"], self.net)
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

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {"network": dict(self.config["network"])}
