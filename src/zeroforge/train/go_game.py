"""Go (Leela Zero) in the training loop: the LZ/NF networks, policy + value losses with the z/q
blend and distillation, Leela Zero weights export, training chunks (the `Game` of train/games.py).

Training targets are made in one method, `targets`, so a z/q blend, a teacher's outputs or the
soft targets of an engine's judgement carried by the data (`loss.teacher_policy_weight`,
`value.teacher_ratio`: train/targets.py) change that method only. With `loss.ownership_weight` or `loss.score_weight` above 0 the net gets the
training-only ownership and score heads (nn/aux_heads.py) and the data must carry those targets
(shards from `sgf2chunks --shards`); export is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from zeroforge.convert.lzweights import export_net
from zeroforge.data.dataset import GoDataset
from zeroforge.data.stream import stream_settings
from zeroforge.nn.aux_heads import SCORE_SCALE
from zeroforge.nn.checkpoint import build_network
from zeroforge.nn.heads import head_penalty
from zeroforge.nn.nfnet import ExportError
from zeroforge.train import losses
from zeroforge.train.distill import Distillation, add_kd_terms
from zeroforge.train.targets import TeacherTargets, ValueTarget, add_value_terms, make_targets


class GoGame:
    name = "go"
    networks = ("lz", "nf")
    # a residual head's L2 (nn/heads.py), a z/q value blend (train/targets.py), distillation
    # (train/distill.py) and the training-only heads (nn/aux_heads.py) log their terms only
    # when configured
    train_terms = ("loss", "policy_loss", "value_mse", "accuracy", "head_l2", "value_mse_z",
                   "q_ratio", "kd_loss", "kd_policy_loss", "kd_value_mse", "kd_alpha",
                   "ownership_loss", "score_loss", "teacher_ratio")  # fmt: skip
    val_terms = ("policy_loss", "value_mse", "accuracy", "loss")
    glance = {"policy_loss": ("policy", ".4f"), "value_mse": ("value", ".4f")}
    final_name = "final.txt.gz"
    data_suffixes = None  # a directory scan finds the registered kinds (data/files.py)
    holdout_share = "the last {share} of the positions"

    def __init__(self, config: Mapping[str, Any], data_paths: Any = None):
        self.network = config["network"]
        self.channels_last = bool(config.get("channels_last", False))
        loss = config.get("loss", {})
        self.value_weight = float(loss.get("value_weight", 1.0))
        self.ownership_weight = float(loss.get("ownership_weight", 0.0))
        self.score_weight = float(loss.get("score_weight", 0.0))
        self.aux = self.ownership_weight > 0 or self.score_weight > 0
        if self.aux:
            self.val_terms = (*self.val_terms, "ownership_loss", "score_loss")
        # The value target (z/q blend, train/targets.py) and teachers (train/distill.py; they are
        # kept out of the module's parameters and checkpoints).
        max_steps = int(config["max_steps"])
        self.value_target = ValueTarget(config.get("value"), max_steps, data_paths)
        self.distillation = Distillation.from_config(config.get("kd"), max_steps)
        self.teacher = TeacherTargets(loss, config.get("value"), max_steps)
        self._warned = False

    def build_net(self) -> nn.Module:
        net = build_network({**self.network, "aux_heads": self.aux})
        return net.to(memory_format=torch.channels_last) if self.channels_last else net

    def batch_size(self, batch: Mapping[str, torch.Tensor]) -> int:
        return batch["planes"].shape[0]

    def prepare(self, planes: torch.Tensor) -> torch.Tensor:
        """uint8 planes [B,18,19,19] from the data pipeline -> float network input."""
        planes = planes.to(torch.float32)
        if self.channels_last:
            planes = planes.contiguous(memory_format=torch.channels_last)
        return planes

    def forward(self, net: nn.Module, batch: Mapping[str, torch.Tensor]) -> Any:
        return net(self.prepare(batch["planes"]))

    def targets(
        self, batch: Mapping[str, torch.Tensor], planes: torch.Tensor, step: int, training: bool
    ) -> dict[str, Any]:
        """What the heads are trained towards: the search's visit fractions, the result z (or a
        z/q blend), each blended with the data's teacher targets when configured, and, while
        training with teachers, their outputs on the same input `planes`."""
        return make_targets(
            batch, planes, step, training, self.value_target, self.distillation, self.teacher
        )

    def losses(
        self, net: nn.Module, batch: Mapping[str, torch.Tensor], step: int, training: bool
    ) -> dict[str, torch.Tensor]:
        planes = self.prepare(batch["planes"])
        if self.aux:
            policy_logits, value, ownership, score = net.forward_aux(planes)
        else:
            policy_logits, value = net(planes)
        target = self.targets(batch, planes, step, training)
        terms = {
            "policy_loss": losses.policy_cross_entropy(policy_logits, target["policy"]),
            "value_mse": losses.value_mse(value, target["value"]),
            "accuracy": losses.top1_accuracy(policy_logits, target["policy"]),
        }
        terms["loss"] = terms["policy_loss"] + self.value_weight * terms["value_mse"]
        if self.aux:
            self._add_aux_terms(terms, batch, ownership, score)
        add_value_terms(terms, value, target)
        add_kd_terms(terms, policy_logits, value, target, self.value_weight)
        head_l2 = head_penalty(net)  # a residual head's own L2 (nn/heads.py)
        if head_l2 is not None:
            terms["head_l2"] = head_l2
            terms["loss"] = terms["loss"] + head_l2
        return terms

    def _add_aux_terms(self, terms: dict, batch, ownership, score) -> None:
        if "ownership" not in batch or "score" not in batch:
            raise ValueError(
                "loss.ownership_weight / loss.score_weight need data with ownership and score "
                "targets: shards from `zeroforge sgf2chunks --shards` of annotated games"
            )
        terms["ownership_loss"] = losses.ownership_loss(ownership, batch["ownership"])
        terms["score_loss"] = losses.score_loss(score, batch["score"], SCORE_SCALE)
        terms["loss"] = (
            terms["loss"]
            + self.ownership_weight * terms["ownership_loss"]
            + self.score_weight * terms["score_loss"]
        )

    def regularized(self, net: nn.Module) -> list[nn.Parameter]:
        return losses.regularized_parameters(net)

    def after_step(self, net: nn.Module) -> None:
        pass

    def export(self, net: nn.Module, directory: Path, stem: str) -> Path | None:
        path = directory / f"{stem}.txt.gz"
        try:
            export_net(net, path)
        except ExportError as error:  # a net leelaz cannot compute (NF with SiLU): train on
            if not self._warned:
                pl.utilities.rank_zero_warn(f"no Leela Zero export: {error}")
            self._warned = True
            return None
        return path

    @staticmethod
    def dataset(
        files: list[str],
        data: Mapping[str, Any],
        seed: int,
        training: bool,
        position_range: tuple[float, float] = (0.0, 1.0),
    ) -> torch.utils.data.IterableDataset:
        return GoDataset(
            files,
            symmetries=bool(data["symmetries"]) and training,
            seed=seed,
            position_range=position_range,
            **stream_settings(data, training),
        )
