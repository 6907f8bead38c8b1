"""The normalizer-free (NF) variant of the Leela Zero tower, and its exact fold into LZ weights.

Same shape as `nn.lznet.LZNet` (stem, `blocks` residual blocks, the same two heads with the same
attribute names, so `policy_fc`/`value_fc2` name the final layers for AGC), but every batch norm
is replaced by a scaled weight-standardised convolution (`WSConv2d`, with a bias) and a fixed
signal-propagation scale, after Brock et al., "Characterizing signal propagation to close the
performance gap in unnormalized ResNets" (NF-ResNets, 2021) and the NFNets paper.

Scaled weight standardisation, per output channel i with fan-in n = cin * k * k:
    W_hat[i] = gain[i] * (W[i] - mean(W[i])) / sqrt(n * (var(W[i]) + WS_EPS))
(mean and biased variance over the n weights of unit i; WS_EPS sits inside, on the per-weight
variance). Then sum_j W_hat[i,j]^2 = gain^2 (up to eps) and sum_j W_hat[i,j] = 0: a WS conv
removes any common mean of its inputs and maps input variance v to output variance v.

Leela Zero's block is POST-activation: x' = relu(x + branch(x)), branch = conv2(relu(conv1 x)).
The NF block keeps that form (leelaz computes it) and scales only the branch:
    x' = act(x + alpha * s * conv2(gamma * act(conv1(x / beta))))
  - gamma = 1/std(act(z)) for z ~ N(0,1) (sqrt(2/(1-1/pi)) = 1.7139 for ReLU) restores unit
    variance after the activation, so conv2's output is zero-mean with unit variance;
  - s is the SkipInit scalar, initialised to 0: at init every block is the identity
    (relu(x + 0) = x because x >= 0), so the net starts as stem + heads;
  - alpha (0.2) is the branch's nominal variance once s has grown to ~1;
  - beta_i = sqrt(Var(x_i)) is the EXPECTED std of block i's input, so conv1 sees unit variance.
The stem is x_0 = gamma * act(conv_in(planes)). It assumes unit-variance input; binary Go planes
have variance <= 1/4, so the stream starts smaller until the stem's gains have learnt the scale
(the betas are a fixed prior, not a measurement). With AGC, a skip scalar starting at 0 moves by
at most lr * clip * eps per step: exclude `skip_gain` from AGC by name where that is too slow
(docs/experiments/nfnet.md).

Variance bookkeeping. In a pre-activation NF-ResNet, x' = x + alpha * f(x / beta) gives
Var(x') = Var(x) + alpha^2 exactly. Here the sum passes through act, so the recursion is
    x_{i+1} = act(x_i + alpha * b),   b ~ N(0, 1) independent of x_i
(at init conv2's output at a point is a sum of many terms with zero-mean random weights: close
to Gaussian and uncorrelated with x_i at that point). For ReLU, given x:
    E[x' | x] = x Phi(x/alpha) + alpha phi(x/alpha),
    E[x'^2 | x] = (x^2 + alpha^2) Phi(x/alpha) + x alpha phi(x/alpha),
and ReLU is 1-Lipschitz, so Var(x') <= Var(x) + alpha^2: the NF-ResNet rule is only an upper
bound. x_0 = gamma * relu(z) is half a point mass at 0, so neither that bound nor a Gaussian
moment-matching of x_i + alpha*b is close (the latter predicts the variance falling from 1 to
0.39 over 8 blocks; the true value stays within 0.94-1.06 over 20 blocks for alpha = 0.2 and
reaches 1.3 at 40). We therefore evaluate
the recursion itself, by a fixed-seed one-dimensional Monte Carlo over the distribution of x_i
(`expected_block_stds`; 2^16 samples, ~0.5 % error, deterministic and cheap), for any
activation. Since WS convs remove means, only Var(x_i) is needed to set beta_i. The last beta
scales the stream into the heads' 1x1 convs. With SiLU the skip path itself is squashed at every
block (silu(x) ~ 0.7 x for x ~ 1; a block is not the identity at init), so the stream's variance
decays (to 0.13 after 20 blocks); the betas follow it, so conv1 still sees unit variance.

Export (ReLU only). Every scale above is linear, and relu(c * y) = c * relu(y) for c > 0, so:
  stem conv:  W = gamma * W_hat,                 b = gamma * bias
  conv1:      W = gamma * W_hat1 / beta_i,       b = gamma * bias1
  conv2:      W = alpha * s * W_hat2,            b = alpha * s * bias2
  head convs: W = W_hat / beta_last,             b = bias
and each of leelaz's batch norms gets mean 0 and variance 1 - 1e-5, so that its
(x + b - 0) / sqrt(1 - 1e-5 + 1e-5) is x + b: leelaz then computes this network's numbers.
SiLU is not positively homogeneous and leelaz only has ReLU, so `lz_tensors` refuses it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.go.planes import INPUT_PLANES
from zeroforge.nn import heads
from zeroforge.nn.aux_heads import AuxHeads
from zeroforge.nn.lznet import BN_EPS, POLICY_CHANNELS, VALUE_CHANNELS, VALUE_HIDDEN

WS_EPS = 1e-6  # added to the per-weight variance of each output unit before the rsqrt
DEFAULT_ALPHA = 0.2  # NF-ResNets' branch variance
SIGNAL_SAMPLES = 1 << 16  # Monte Carlo samples for the variance recursion
SIGNAL_SEED = 0
# 1 / std(act(z)), z ~ N(0,1): ReLU in closed form; SiLU by quadrature (tests/nn/test_nfnet.py;
# the NFNets reference code's 1.7881293 is 0.05 % off).
ACTIVATION_GAMMA = {"relu": math.sqrt(2.0 / (1.0 - 1.0 / math.pi)), "silu": 1.7871872}
ACTIVATIONS = {"relu": torch.relu, "silu": F.silu}
# What leelaz's batch norm must read to be the identity after the conv bias (docs/ENGINES.md#leela-zero-weights-files):
# (x + b - 0) / sqrt(LZ_IDENTITY_VAR + BN_EPS) = x + b in float32.
LZ_IDENTITY_MEAN = 0.0
LZ_IDENTITY_VAR = 1.0 - BN_EPS


class ExportError(ValueError):
    """The network cannot be written as Leela Zero weights."""


class WSConv2d(nn.Conv2d):
    """Conv2d whose weight is standardised per output unit, scaled by 1/sqrt(fan-in) and a gain."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__(cin, cout, kernel, padding=kernel // 2, bias=True)
        self.gain = nn.Parameter(torch.ones(cout))
        nn.init.kaiming_normal_(self.weight, nonlinearity="linear")
        nn.init.zeros_(self.bias)

    def standardized_weight(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """W_hat (module docstring); `dtype` computes it in another precision (export)."""
        w, gain = self.weight, self.gain
        if dtype is not None:
            w, gain = w.to(dtype), gain.to(dtype)
        fan_in = w[0].numel()
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = w.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        scale = torch.rsqrt(fan_in * (var + WS_EPS)) * gain.view(-1, 1, 1, 1)
        return (w - mean) * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.standardized_weight(), self.bias, padding=self.padding)


def expected_block_stds(blocks: int, alpha: float, activation: str) -> list[float]:
    """Expected std of each block's input and of the tower's output (blocks + 1 values)."""
    act, gamma = ACTIVATIONS[activation], ACTIVATION_GAMMA[activation]
    gen = torch.Generator().manual_seed(SIGNAL_SEED)
    x = gamma * act(torch.randn(SIGNAL_SAMPLES, generator=gen, dtype=torch.float64))
    stds = [x.std().item()]
    for _ in range(blocks):
        x = act(x + alpha * torch.randn(SIGNAL_SAMPLES, generator=gen, dtype=torch.float64))
        stds.append(x.std().item())
    return stds


class NFBlock(nn.Module):
    """x' = act(x + alpha * skip_gain * conv2(gamma * act(conv1(x / beta))))."""

    def __init__(self, filters: int, beta: float, alpha: float, activation: str):
        super().__init__()
        self.conv1 = WSConv2d(filters, filters, 3)
        self.conv2 = WSConv2d(filters, filters, 3)
        self.skip_gain = nn.Parameter(torch.zeros(()))
        self.beta, self.alpha, self.activation = beta, alpha, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act, gamma = ACTIVATIONS[self.activation], ACTIVATION_GAMMA[self.activation]
        hidden = act(self.conv1(x / self.beta)) * gamma
        return act(x + self.conv2(hidden) * (self.alpha * self.skip_gain))


class NFNet(nn.Module):
    """Normalizer-free Leela Zero tower; `lz_tensors` gives the equivalent LZ weights."""

    def __init__(
        self,
        blocks: int,
        filters: int,
        activation: str = "relu",
        alpha: float = DEFAULT_ALPHA,
        head: str = "lz",
        head_residual_l2: float = heads.DEFAULT_RESIDUAL_L2,
        aux_heads: bool = False,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.blocks, self.filters, self.activation, self.alpha = blocks, filters, activation, alpha
        self.head, self.head_residual_l2 = head, head_residual_l2
        self.betas = expected_block_stds(blocks, alpha, activation)
        self.input = WSConv2d(INPUT_PLANES, filters, 3)
        self.tower = nn.Sequential(
            *[NFBlock(filters, self.betas[i], alpha, activation) for i in range(blocks)]
        )
        self.policy_conv = WSConv2d(filters, POLICY_CHANNELS, 1)
        self.policy_fc = heads.policy_fc(head, POLICY_CHANNELS, head_residual_l2)
        self.value_conv = WSConv2d(filters, VALUE_CHANNELS, 1)
        self.value_fc1 = heads.value_fc1(head, VALUE_HIDDEN, head_residual_l2)
        self.value_fc2 = nn.Linear(VALUE_HIDDEN, 1)
        self.aux = AuxHeads(filters) if aux_heads else None  # training only (nn/aux_heads.py)

    def config(self) -> dict:
        """What rebuilds this network (the checkpoint's `network` entry, as conf/network)."""
        return {
            "kind": "lz",
            "norm": "nf",
            "blocks": self.blocks,
            "filters": self.filters,
            "activation": self.activation,
            "alpha": self.alpha,
            "head": self.head,
            "head_residual_l2": self.head_residual_l2,
            "aux_heads": self.aux is not None,
        }

    def trunk(self, planes: torch.Tensor) -> torch.Tensor:
        if not planes.is_floating_point():
            planes = planes.to(self.input.weight.dtype)
        act = ACTIVATIONS[self.activation]
        x = self.tower(act(self.input(planes)) * ACTIVATION_GAMMA[self.activation])
        return x / self.betas[-1]

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """planes [B,18,19,19] (float, or uint8/bool 0/1) -> (policy logits [B,362], value [B]
        in (-1, 1))."""
        return self.heads(self.trunk(planes))

    def forward_aux(self, planes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(policy logits, value, ownership logits [B,361], score [B]): needs `aux_heads`."""
        x = self.trunk(planes)
        return (*self.heads(x), *self.aux(x))

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        act = ACTIVATIONS[self.activation]
        policy = self.policy_fc(act(self.policy_conv(x)).flatten(1))
        hidden = act(self.value_fc1(act(self.value_conv(x)).flatten(1)))
        value = torch.tanh(self.value_fc2(hidden)).squeeze(1)
        return policy, value

    @torch.no_grad()
    def lz_tensors(self) -> list[np.ndarray]:
        """The Leela Zero weight tensors in file order (docs/ENGINES.md#leela-zero-weights-files), float32, shaped as in torch.

        Folds standardisation, gains, gamma, beta, alpha and the skip scalars into conv weights
        and biases; every batch norm becomes the identity (mean 0, variance 1 - 1e-5).
        """
        if self.activation != "relu":
            raise ExportError(
                f"this NF network uses {self.activation}; Leela Zero weights can only hold ReLU "
                "networks (train with network.activation=relu to export)"
            )
        gamma = ACTIVATION_GAMMA["relu"]
        out = _conv_rows(self.input, gamma, gamma)
        for block in self.tower:
            out += _conv_rows(block.conv1, gamma / block.beta, gamma)
            skip = self.alpha * block.skip_gain.item()
            out += _conv_rows(block.conv2, skip, skip)
        head_scale = 1.0 / self.betas[-1]
        out += _conv_rows(self.policy_conv, head_scale, 1.0)
        out += [_np(self.policy_fc.weight), _np(self.policy_fc.bias)]
        out += _conv_rows(self.value_conv, head_scale, 1.0)
        out += [_np(self.value_fc1.weight), _np(self.value_fc1.bias)]
        out += [_np(self.value_fc2.weight), _np(self.value_fc2.bias)]
        return out


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy().copy()


def _conv_rows(conv: WSConv2d, weight_scale: float, bias_scale: float) -> list[np.ndarray]:
    """[weight, bias, bn mean, bn var] of one conv folded into plain LZ form (float64 math)."""
    w = conv.standardized_weight(torch.float64).detach() * weight_scale
    b = conv.bias.detach().double() * bias_scale
    cout = w.shape[0]
    mean = np.full(cout, LZ_IDENTITY_MEAN, dtype=np.float32)
    var = np.full(cout, LZ_IDENTITY_VAR, dtype=np.float32)
    return [_np(w), _np(b), mean, var]
