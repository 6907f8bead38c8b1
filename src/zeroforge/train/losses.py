"""Loss terms and metrics of training, as small pure functions of tensors.

Which targets they are applied to (z, a z/q blend, a teacher's outputs) is decided by the
LightningModule in one place (`LZTrainModule.targets`); these functions only compute.
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
