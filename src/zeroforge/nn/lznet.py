"""The Leela Zero residual network, numerically the engine's own.

Input [B,18,19,19] -> 3x3 conv -> `blocks` residual blocks of `filters` channels -> two heads:
policy (1x1 conv to 2, BN, ReLU, FC 722 -> 362 logits, pass last) and value (1x1 conv to 1,
BN, ReLU, FC 361 -> 256, ReLU, FC 256 -> 1, tanh) in (-1, 1) for the side to move. How the
two head FC layers are trained (`head`: plain, or a convolution-like parametrisation that folds
into the same matrices) is nn/heads.py; a bare `LZNet` has the plain ones, the configs choose.
`aux_heads` adds the training-only ownership and score heads (nn/aux_heads.py: `forward_aux`),
which export leaves out.

Batch norm is Leela Zero's: eps 1e-5, a learned beta, gamma fixed at 1 unless `affine_gamma`
(then folded into the conv weights at export). Convolutions carry no bias of their own: the
engine's conv bias is beta * sqrt(running_var + eps), written by `formats.lzweights`.

`forward` takes float planes or the dataset's uint8 0/1 planes. `randomize_bn_stats` gives a
net non-trivial running statistics for tests (random nets exported to leelaz).
"""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.go.planes import INPUT_PLANES
from zeroforge.nn import heads
from zeroforge.nn.aux_heads import AuxHeads

BN_EPS = 1e-5  # Leela Zero's batch-norm epsilon (Network.cpp)
VALUE_HIDDEN = 256
POLICY_CHANNELS = 2
VALUE_CHANNELS = 1


class LZBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d with gamma fixed at 1 (Leela Zero) unless `affine_gamma`."""

    def __init__(self, channels: int, momentum: float = 0.01, affine_gamma: bool = False):
        super().__init__(channels, eps=BN_EPS, momentum=momentum, affine=True)
        self.weight.requires_grad_(affine_gamma)


class ConvBN(nn.Module):
    """conv (no bias) -> LZ batch norm -> optional ReLU."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        bn_momentum: float,
        affine_gamma: bool,
        relu: bool = True,
    ):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = LZBatchNorm(cout, bn_momentum, affine_gamma)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return torch.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, filters: int, bn_momentum: float, affine_gamma: bool):
        super().__init__()
        self.conv1 = ConvBN(filters, filters, 3, bn_momentum, affine_gamma)
        self.conv2 = ConvBN(filters, filters, 3, bn_momentum, affine_gamma, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv2(self.conv1(x)))


class LZNet(nn.Module):
    def __init__(
        self,
        blocks: int,
        filters: int,
        bn_momentum: float = 0.01,
        affine_gamma: bool = False,
        head: str = "lz",
        head_residual_l2: float = heads.DEFAULT_RESIDUAL_L2,
        aux_heads: bool = False,
    ):
        super().__init__()
        self.blocks, self.filters = blocks, filters
        self.bn_momentum, self.affine_gamma = bn_momentum, affine_gamma
        self.head, self.head_residual_l2 = head, head_residual_l2
        self.input = ConvBN(INPUT_PLANES, filters, 3, bn_momentum, affine_gamma)
        self.tower = nn.Sequential(
            *[ResidualBlock(filters, bn_momentum, affine_gamma) for _ in range(blocks)]
        )
        self.policy_conv = ConvBN(filters, POLICY_CHANNELS, 1, bn_momentum, affine_gamma)
        self.policy_fc = heads.policy_fc(head, POLICY_CHANNELS, head_residual_l2)
        self.value_conv = ConvBN(filters, VALUE_CHANNELS, 1, bn_momentum, affine_gamma)
        self.value_fc1 = heads.value_fc1(head, VALUE_HIDDEN, head_residual_l2)
        self.value_fc2 = nn.Linear(VALUE_HIDDEN, 1)
        self.aux = AuxHeads(filters) if aux_heads else None

    def config(self) -> dict:
        """What rebuilds this network (a checkpoint's `zeroforge.network`, conf/network/*.yaml)."""
        return {
            "kind": "lz",
            "norm": "bn",
            "blocks": self.blocks,
            "filters": self.filters,
            "bn_momentum": self.bn_momentum,
            "affine_gamma": self.affine_gamma,
            "head": self.head,
            "head_residual_l2": self.head_residual_l2,
            "aux_heads": self.aux is not None,
        }

    def trunk(self, planes: torch.Tensor) -> torch.Tensor:
        if not planes.is_floating_point():
            planes = planes.to(self.input.conv.weight.dtype)
        return self.tower(self.input(planes))

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        policy = self.policy_fc(self.policy_conv(x).flatten(1))
        hidden = torch.relu(self.value_fc1(self.value_conv(x).flatten(1)))
        value = torch.tanh(self.value_fc2(hidden)).squeeze(1)
        return policy, value

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """planes [B,18,19,19] (float, or uint8/bool 0/1 as the dataset yields them) ->
        (policy logits [B,362], value [B] in (-1, 1))."""
        return self.heads(self.trunk(planes))

    def forward_aux(self, planes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(policy logits, value, ownership logits [B,361], score [B]): needs `aux_heads`."""
        x = self.trunk(planes)
        return (*self.heads(x), *self.aux(x))


def randomize_bn_stats(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every LZ batch norm non-trivial running statistics and beta (and gamma, when
    trainable), so tests of export/import see more than mean 0, var 1; returns `model`.

    Variances are log-uniform in [0.25, 4], means and betas normal; seeded, so the same seed
    gives the same net on every machine.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, LZBatchNorm):
                continue
            n = module.num_features
            module.running_mean.normal_(0.0, 0.3, generator=generator)
            module.running_var.copy_(
                torch.exp(torch.empty(n).uniform_(-1.386, 1.386, generator=generator))
            )
            module.bias.normal_(0.0, 0.2, generator=generator)
            if module.weight.requires_grad:
                module.weight.uniform_(0.5, 1.5, generator=generator)
    return model
