"""Knowledge distillation: teacher networks whose outputs become extra training targets.

`Teachers` is an ensemble of one or more networks (Leela Zero weights files or our checkpoints,
any architecture with the same two heads, loaded with `convert.nets.load_any_net`). They run in
eval mode under no_grad on the student's own (augmented) input, and they are held in a plain
list, never registered as submodules: they are not among the student's parameters, its
optimiser's groups or its checkpoints. The ensemble's policy is the mean of the teachers'
softmax(logits / T), its value the mean of their values.

`Distillation` (config section `kd`) turns them into loss terms, Hinton et al. 2015 style:

    loss = (1 - alpha) * data_loss + alpha * kd_loss
    kd_loss = T^2 * CE(softmax(teacher / T), softmax(student / T))
              + value_weight * MSE(student value, teacher value)

With alpha = 0 the teachers are not run and the loss is exactly the plain one. The T^2 factor
keeps the policy gradient's scale independent of T. The value head is distilled with the loss
it is trained with on the data (MSE, weighted by `loss.value_weight`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.go.geometry import BOARD_SIZE, NUM_MOVES
from zeroforge.go.planes import INPUT_PLANES
from zeroforge.train import losses
from zeroforge.train.targets import Coefficient


class Teachers:
    """An ensemble of frozen networks; a plain object, so nothing in it joins a student module."""

    def __init__(self, nets: Sequence[nn.Module], names: Sequence[str] = ()):
        if not nets:
            raise ValueError("kd.teachers: at least one teacher is needed")
        self.nets: list[nn.Module] = [self._freeze(net) for net in nets]
        for net, name in zip(
            self.nets, list(names) or [type(n).__name__ for n in nets], strict=True
        ):
            _check_heads(net, name)

    @classmethod
    def load(cls, paths: Sequence[str | os.PathLike]) -> Teachers:
        """Leela Zero weights files or our checkpoints; errors name the file (ValueError)."""
        from zeroforge.convert.nets import load_any_net

        nets = []
        for path in paths:
            if not os.path.exists(path):
                raise FileNotFoundError(f"kd.teachers: {path}: no such file")
            nets.append(load_any_net(path))
        return cls(nets, [os.fspath(p) for p in paths])

    @staticmethod
    def _freeze(net: nn.Module) -> nn.Module:
        net.eval()
        for parameter in net.parameters():
            parameter.requires_grad_(False)
        return net

    def to(self, device: torch.device) -> Teachers:
        for net in self.nets:
            net.eval()  # Lightning's train() calls never reach these, but be certain
            net.to(device)
        return self

    @torch.no_grad()
    def __call__(self, planes: torch.Tensor, temperature: float = 1.0) -> dict[str, torch.Tensor]:
        """The ensemble on network input planes [B,18,19,19] -> {"policy": mean of
        softmax(logits / T) [B,362] (fp32), "value": mean value [B] (fp32)}."""
        self.to(planes.device)
        policy = torch.zeros((), device=planes.device)
        value = torch.zeros((), device=planes.device)
        for net in self.nets:
            logits, net_value = net(planes)
            policy = policy + F.softmax(logits.float() / temperature, dim=1)
            value = value + net_value.float()
        return {"policy": policy / len(self.nets), "value": value / len(self.nets)}


@torch.no_grad()
def _check_heads(net: nn.Module, name: str) -> None:
    """A teacher must answer like the student: policy logits [B,362] and a value [B]."""
    outputs = net(torch.zeros(1, INPUT_PLANES, BOARD_SIZE, BOARD_SIZE))
    shapes = [tuple(t.shape) for t in outputs] if isinstance(outputs, tuple) else None
    if shapes != [(1, NUM_MOVES), (1,)]:
        got = shapes if shapes is not None else f"a {type(outputs).__name__}"
        raise ValueError(
            f"kd.teachers: {name}: outputs {got} for one position, not (policy, value) "
            f"shaped [(1, {NUM_MOVES}), (1,)]"
        )


def kd_policy_loss(
    student_logits: torch.Tensor, teacher_policy: torch.Tensor, temperature: float
) -> torch.Tensor:
    """T^2 * cross-entropy of softmax(student / T) against the teachers' softened policy."""
    return temperature**2 * losses.policy_cross_entropy(
        student_logits.float() / temperature, teacher_policy
    )


class Distillation:
    """The `kd` config section: teachers, alpha (a number or a schedule) and temperature."""

    def __init__(self, cfg: Mapping[str, Any], max_steps: int, teachers: Teachers | None = None):
        cfg = cfg or {}
        paths = list(cfg.get("teachers") or [])
        self.teachers = teachers if teachers is not None else Teachers.load(paths)
        self.alpha = Coefficient(cfg.get("alpha", 0.5), max_steps, "kd.alpha")
        self.temperature = float(cfg.get("temperature", 1.0))
        if self.temperature <= 0.0:
            raise ValueError(f"kd.temperature must be > 0, got {self.temperature}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None, max_steps: int) -> Distillation | None:
        """None when no teachers are configured (`kd.teachers: []`)."""
        if not cfg or not cfg.get("teachers"):
            return None
        return cls(cfg, max_steps)

    def targets(self, planes: torch.Tensor, step: int) -> dict[str, Any]:
        """Teacher targets for the batch at `step`; only alpha when it is 0 (no teacher run)."""
        alpha = self.alpha(step)
        if alpha == 0.0:
            return {"kd_alpha": 0.0}
        outputs = self.teachers(planes, self.temperature)
        return {
            "kd_alpha": alpha,
            "kd_temperature": self.temperature,
            "teacher_policy": outputs["policy"],
            "teacher_value": outputs["value"],
        }

    def teacher_value(self, planes: torch.Tensor) -> torch.Tensor:
        """The ensemble's value at T = 1 (the value head has no temperature)."""
        return self.teachers(planes, 1.0)["value"]


def add_kd_terms(
    terms: dict[str, torch.Tensor],
    policy_logits: torch.Tensor,
    value: torch.Tensor,
    target: Mapping[str, Any],
    value_weight: float,
) -> None:
    """Mixes the distillation loss into `terms["loss"]` (the data loss) when `target` carries
    teacher outputs; the data terms stay as they are, so they compare across runs."""
    if "kd_alpha" not in target:
        return
    terms["kd_alpha"] = torch.tensor(float(target["kd_alpha"]))
    if "teacher_policy" not in target:  # alpha is 0: NaN, not the last step's stale values
        for name in ("kd_policy_loss", "kd_value_mse", "kd_loss"):
            terms[name] = torch.tensor(float("nan"))
        return
    alpha, temperature = float(target["kd_alpha"]), float(target["kd_temperature"])
    terms["kd_policy_loss"] = kd_policy_loss(policy_logits, target["teacher_policy"], temperature)
    terms["kd_value_mse"] = losses.value_mse(value, target["teacher_value"])
    terms["kd_loss"] = terms["kd_policy_loss"] + value_weight * terms["kd_value_mse"]
    terms["loss"] = (1.0 - alpha) * terms["loss"] + alpha * terms["kd_loss"]
