"""Loss terms and metrics of training, as small pure functions of tensors.

Which targets they are applied to (z, a z/q blend, a teacher's outputs) is decided by the
game in one place (`GoGame.targets`, train/go_game.py); these functions only compute.
Leela Zero's TensorFlow trainer (tfprocess.py) is the reference: loss = policy cross-entropy
+ value_weight * value MSE + l2 * sum(w^2) / 2 over convolution and fully connected weights.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.nn.heads import FoldedLinear

L2_DEFAULT = 1e-4  # Leela Zero's L2 scale on conv and FC weights (tfprocess.py)


def policy_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of policy logits [B,362] against soft targets [B,362] (rows sum to 1)."""
    return -(target * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()


def value_mse(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the value head output [B] in (-1, 1) against targets [B]."""
    return (value.float() - target).square().mean()


def top1_accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Share of positions where the network's best move is the target's most visited move."""
    return (logits.argmax(dim=1) == target.argmax(dim=1)).float().mean()


def ownership_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Two-way cross-entropy per point, averaged over points and positions: the predicted
    owner tanh(logits) [B,361] in (-1, 1) against the final owner [B,361] in {-1, 0, 1} (0, a
    point no one owns, is the target probability 1/2; KataGo's ownership loss)."""
    return F.binary_cross_entropy_with_logits(2.0 * logits.float(), (1.0 + target) / 2.0)


def score_loss(predicted: torch.Tensor, margin: torch.Tensor, scale: float) -> torch.Tensor:
    """Huber loss (delta 1) of the score head [B] against the final margin [B] in points
    divided by `scale` (a lopsided game's margin of 100 points must not swamp the rest)."""
    return F.smooth_l1_loss(predicted.float(), margin / scale)


def regularized_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weights L2 applies to: convolution and fully connected weights, no biases, no BN;
    of a head trained through shared weights (nn/heads.py), those shared weights."""
    chosen = []
    for module in model.modules():
        if isinstance(module, FoldedLinear):
            chosen += module.l2_weights()
        elif isinstance(module, nn.Conv2d | nn.Linear):
            chosen.append(module.weight)
    return [p for p in chosen if p.requires_grad]


def l2_penalty(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """sum(w^2) / 2 over the tensors, as TensorFlow's l2_loss (scale it by the L2 coefficient)."""
    return 0.5 * sum(p.float().square().sum() for p in parameters)


NNUE_LOSS_KINDS = ("power", "cross_entropy")


def nnue_loss(
    predicted: torch.Tensor,
    score: torch.Tensor,
    result: torch.Tensor,
    lam: float,
    scale: float,
    kind: str = "power",
    power: float = 2.5,
) -> torch.Tensor:
    """nnue-pytorch's loss, in win-probability space. All three in the side to move's view:
    `predicted` and `score` in Stockfish internal units, `result` -1/0/1. The target is
    lam * sigmoid(score / scale) + (1 - lam) * (result + 1) / 2; the prediction sigmoid(predicted
    / scale). `power`: mean |prediction - target| ** power (2: MSE; nnue-pytorch now uses 2.5);
    `cross_entropy`: the cross-entropy minus the target's own entropy (0 at a perfect fit)."""
    logit = predicted.float() / scale
    target = lam * torch.sigmoid(score.float() / scale) + (1.0 - lam) * (result.float() + 1) / 2
    if kind == "power":
        return (torch.sigmoid(logit) - target).abs().pow(power).mean()
    if kind == "cross_entropy":
        cross = -(target * F.logsigmoid(logit) + (1 - target) * F.logsigmoid(-logit))
        eps = 1e-12
        entropy = -(target * (target + eps).log() + (1 - target) * (1 - target + eps).log())
        return (cross - entropy).mean()
    raise ValueError(f"loss.kind: {kind!r} is not one of {NNUE_LOSS_KINDS}")
