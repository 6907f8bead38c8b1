"""The heads' fully connected layers as Leela Zero's file holds them, and how they are trained.

The weights file fixes two matrices: `policy_fc` [362, 722] over the flattened policy planes
(2 channels x 361 points, channel-major; row 361 = pass) and `value_fc1` [256, 361] over the one
value plane. A plain FC layer must learn from scratch where every point is: on small data it
sits on the uniform plateau, then memorises (docs/experiments/heads.md). The file does not say how
the matrix is trained, so `network.head` chooses a parametrisation; each exports the matrix it
computes with, so the engine's numbers are the trained net's.

    lz             nn.Linear with PyTorch's init (Leela Zero's own head).
    conv_init      nn.Linear initialised as the `conv` matrix plus small noise, then plain.
    conv           the matrix is a function of a few shared weights, as in a fully
                   convolutional net: policy logit of point i = a . p[:, i] + b_i (a 1x1
                   convolution over the 2 policy channels, weights shared over points, a bias
                   per point), pass logit = g . mean_i p[:, i] + b_pass (pooled features);
                   value hidden unit k = u_k * mean_i v_i + c_k (global average pooling).
    conv3          `conv` with a 3x3 kernel (zero padding) over the 2 policy channels instead
                   of the 1x1: 18 shared weights, starting as the 1x1 (centre taps only).
    conv_residual  `conv` plus a full matrix R, zero at init, with its own L2 loss term
                   residual_l2 * sum(R^2) / 2: it learns what the shared part cannot and is
                   pulled back towards it.

Default (conf/network): `conv3`. On the sample's GNU Go games (docs/experiments/heads.md) it
comes within 0.15 nats of a fully convolutional reference net at 2x32 and 6x64, where `conv`
stays about 0.2 behind at 2x32, `conv_init` is 0.7 behind and `lz` sits on the uniform
plateau; `conv_residual` matches `conv` on policy but its value head memorises the few
training games' results.

The shared weights (a, g, u) are weights like a convolution's: the optimiser's L2/weight decay
applies to them (`l2_weights`); R is left to its own term (`penalty`), whatever the optimiser.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.go.geometry import NUM_MOVES, NUM_POINTS

HEADS = ("lz", "conv_init", "conv", "conv3", "conv_residual")
DEFAULT_RESIDUAL_L2 = 1e-2  # of `conv_residual` (docs/experiments/heads.md)
CONV_INIT_NOISE = 0.01  # std of the noise added to the conv-equivalent matrix (`conv_init`)


class FoldedLinear(nn.Module):
    """y = x W^T + bias with W = shared_matrix() (+ residual R): `weight` is that W, exported."""

    def __init__(self, out_features: int, in_features: int, residual_l2: float | None):
        super().__init__()
        self.out_features, self.in_features = out_features, in_features
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.residual_l2 = residual_l2
        self.residual = (
            nn.Parameter(torch.zeros(out_features, in_features))
            if residual_l2 is not None
            else None
        )

    def shared_matrix(self) -> torch.Tensor:
        raise NotImplementedError

    def shared_weights(self) -> list[nn.Parameter]:
        raise NotImplementedError

    @property
    def weight(self) -> torch.Tensor:
        shared = self.shared_matrix()
        return shared if self.residual is None else shared + self.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)

    def l2_weights(self) -> list[nn.Parameter]:
        """What the optimiser's L2 / weight decay applies to (train/losses.py)."""
        return self.shared_weights()

    def penalty(self) -> torch.Tensor:
        """This layer's own regularisation loss term (0 without a residual)."""
        if self.residual is None or not self.residual_l2:
            return self.bias.new_zeros(())
        return 0.5 * self.residual_l2 * self.residual.float().square().sum()


def shift_matrices(kernel: int) -> torch.Tensor:
    """[kernel*kernel, 361, 361]: S_d[i, j] = 1 where j is point i moved by offset d (zero
    padding at the edges), so sum_d K_d S_d is a `kernel` x `kernel` convolution as a matrix."""
    half = kernel // 2
    shifts = torch.zeros(kernel * kernel, NUM_POINTS, NUM_POINTS)
    for d, (dy, dx) in enumerate(
        (dy, dx) for dy in range(-half, half + 1) for dx in range(-half, half + 1)
    ):
        for y in range(19):
            for x in range(19):
                if 0 <= y + dy < 19 and 0 <= x + dx < 19:
                    shifts[d, y * 19 + x, (y + dy) * 19 + x + dx] = 1.0
    return shifts


class PointwisePolicyFC(FoldedLinear):
    """policy_fc as a convolution over the policy channels (1x1, or `kernel` x `kernel` with
    zero padding), weights shared over points, a bias per point; pass from pooling."""

    def __init__(self, channels: int, residual_l2: float | None, kernel: int = 1):
        super().__init__(NUM_MOVES, channels * NUM_POINTS, residual_l2)
        self.channels = channels
        bound = 1.0 / channels**0.5  # nn.Conv2d(channels, 1, 1)'s default init
        shape = (channels,) if kernel == 1 else (channels, kernel, kernel)
        self.point_weight = nn.Parameter(torch.zeros(shape))
        with torch.no_grad():  # a kernel starts as its centre tap: the 1x1 convolution
            self.point_weight.view(channels, -1)[:, kernel * kernel // 2].uniform_(-bound, bound)
        self.pass_weight = nn.Parameter(torch.empty(channels).uniform_(-bound, bound))
        self.register_buffer("shifts", shift_matrices(kernel), persistent=False)

    def shared_weights(self) -> list[nn.Parameter]:
        return [self.point_weight, self.pass_weight]

    def shared_matrix(self) -> torch.Tensor:
        shifts = self.shifts.to(self.point_weight.dtype)
        taps = self.point_weight.view(self.channels, -1)
        points = torch.einsum("cd,dij->icj", taps, shifts).reshape(NUM_POINTS, -1)
        pooled = (self.pass_weight / NUM_POINTS).repeat_interleave(NUM_POINTS)
        return torch.cat([points, pooled.view(1, -1)])


class PooledValueFC(FoldedLinear):
    """value_fc1 as global average pooling of the value plane into each hidden unit."""

    def __init__(self, hidden: int, residual_l2: float | None):
        super().__init__(hidden, NUM_POINTS, residual_l2)
        self.unit_weight = nn.Parameter(torch.empty(hidden).uniform_(-1.0, 1.0))
        # Value planes are >= 0 (ReLU): a unit with u < 0 and bias <= 0 would start dead.
        nn.init.uniform_(self.bias, 0.0, 1.0)

    def shared_weights(self) -> list[nn.Parameter]:
        return [self.unit_weight]

    def shared_matrix(self) -> torch.Tensor:
        return (self.unit_weight / NUM_POINTS).view(-1, 1).repeat(1, NUM_POINTS)


def _conv_initialised(structured: FoldedLinear) -> nn.Linear:
    linear = nn.Linear(structured.in_features, structured.out_features)
    with torch.no_grad():
        matrix = structured.shared_matrix()
        linear.weight.copy_(matrix + CONV_INIT_NOISE * torch.randn_like(matrix))
        linear.bias.copy_(structured.bias)
    return linear


def _check(head: str) -> None:
    if head not in HEADS:
        raise ValueError(f"network.head: {head!r} is not one of {HEADS}")


def policy_fc(head: str, channels: int, residual_l2: float = DEFAULT_RESIDUAL_L2) -> nn.Module:
    """The policy FC layer [362, channels*361] of the parametrisation `head`."""
    _check(head)
    if head == "lz":
        return nn.Linear(channels * NUM_POINTS, NUM_MOVES)
    kernel = 3 if head == "conv3" else 1
    structured = PointwisePolicyFC(
        channels, residual_l2 if head == "conv_residual" else None, kernel
    )
    return _conv_initialised(structured) if head == "conv_init" else structured


def value_fc1(head: str, hidden: int, residual_l2: float = DEFAULT_RESIDUAL_L2) -> nn.Module:
    """The value head's first FC layer [hidden, 361] of the parametrisation `head`."""
    _check(head)
    if head == "lz":
        return nn.Linear(NUM_POINTS, hidden)
    structured = PooledValueFC(hidden, residual_l2 if head == "conv_residual" else None)
    return _conv_initialised(structured) if head == "conv_init" else structured


def head_penalty(net: nn.Module) -> torch.Tensor | None:
    """Sum of the heads' own regularisation terms (None when no layer has one)."""
    layers = [
        m
        for m in net.modules()
        if isinstance(m, FoldedLinear) and m.residual is not None and m.residual_l2
    ]
    return sum(m.penalty() for m in layers) if layers else None
