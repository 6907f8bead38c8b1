"""Go networks <-> Leela Zero weights files: an `LZNet` (or a net with its own exact fold,
`lz_tensors()`, as `nn.nfnet.NFNet`) as the file's rows in order, and the rows of a file as a
fresh `LZNet`. The file itself (layout, reading, checking, writing) is `formats.lzweights`.

The engine computes BN(x) = (x + conv_b - mean) / sqrt(var + 1e-5) with no gamma and no beta,
so a PyTorch batch norm with beta (and gamma fixed at 1) is written as conv_b =
beta * sqrt(var + 1e-5); a learned gamma is folded into the conv weights and the running
statistics. Import stores beta = b / sqrt(var + 1e-5) in float32, choosing among neighbouring
float32s the one whose export gives b back: files written here round-trip bit for bit. A bias
from another writer may have no such beta (when var + eps > 1) and then moves by one ulp.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from zeroforge.formats.lzweights import BN_EPS, LZWeights, read_weights, write_weights
from zeroforge.nn.lznet import LZBatchNorm, LZNet


def _conv_bn_rows(block) -> list[np.ndarray]:
    """A ConvBN as the engine's (w, b, mean, var): gamma folded into w, beta into b."""
    conv, bn = block.conv, block.bn
    var = bn.running_var.detach().double()
    mean = bn.running_mean.detach().double()
    gamma = bn.weight.detach().double()
    beta = bn.bias.detach().double()
    weight = conv.weight.detach()
    # torch: gamma * (y - mean) / std + beta. The engine computes (y' + b - mean') / std, which
    # is the same with y' = gamma * y (conv weights scaled), mean' = gamma * mean and
    # b = beta * std.
    std = (var + BN_EPS).sqrt()
    if not bool((gamma == 1).all()):
        weight = weight.double() * gamma.view(-1, 1, 1, 1)
        mean = mean * gamma
    return [_flat(weight), _flat(beta * std), _flat(mean), _flat(var)]


def _flat(tensor) -> np.ndarray:
    """A float32 copy in logical (C) order, whatever the dtype or memory format."""
    return np.ravel(tensor.detach().cpu().float().numpy()).astype(np.float32, copy=True)


def net_to_rows(model) -> list[np.ndarray]:
    """The rows of an `LZNet` in file order (float32); a network with its own exact fold
    (`lz_tensors()`, e.g. `nn.nfnet.NFNet`) supplies them itself."""
    if hasattr(model, "lz_tensors"):
        return [np.asarray(t, dtype=np.float32).ravel() for t in model.lz_tensors()]
    rows = _conv_bn_rows(model.input)
    for block in model.tower:
        rows += _conv_bn_rows(block.conv1) + _conv_bn_rows(block.conv2)
    rows += _conv_bn_rows(model.policy_conv)
    rows += [_flat(model.policy_fc.weight), _flat(model.policy_fc.bias)]
    rows += _conv_bn_rows(model.value_conv)
    rows += [_flat(model.value_fc1.weight), _flat(model.value_fc1.bias)]
    rows += [_flat(model.value_fc2.weight), _flat(model.value_fc2.bias)]
    return rows


def _beta_for_bias(bias: np.ndarray, var: np.ndarray) -> np.ndarray:
    """float32 beta with float32(beta * sqrt(var + eps)) == bias where one exists.

    beta = bias / std rounded to float32 can miss `bias` by one ulp on the way back; a
    neighbouring float32 usually hits it, which makes import-then-export bit-exact.
    """
    std = np.sqrt(var.astype(np.float64) + BN_EPS)
    best = (bias.astype(np.float64) / std).astype(np.float32)
    found = (best.astype(np.float64) * std).astype(np.float32) == bias
    for steps in (1, -1, 2, -2):
        candidate = best
        for _ in range(abs(steps)):
            candidate = np.nextafter(candidate, np.float32(np.inf if steps > 0 else -np.inf))
        hit = ~found & ((candidate.astype(np.float64) * std).astype(np.float32) == bias)
        best = np.where(hit, candidate, best)
        found |= hit
    return best


def _load_conv_bn(block, w, b, mean, var) -> None:
    with torch.no_grad():
        block.conv.weight.copy_(torch.from_numpy(w.reshape(block.conv.weight.shape)))
        block.bn.running_mean.copy_(torch.from_numpy(mean))
        block.bn.running_var.copy_(torch.from_numpy(var))
        block.bn.bias.copy_(torch.from_numpy(_beta_for_bias(b, var)))
        block.bn.weight.fill_(1.0)


def rows_to_net(weights: LZWeights, **net_options):
    """A fresh `LZNet` (eval mode) holding `weights`; net_options go to the constructor."""
    with torch.device("meta"):  # no random init of tensors that are overwritten next
        model = LZNet(weights.blocks, weights.filters, **net_options)
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if isinstance(module, LZBatchNorm):
            module.num_batches_tracked.zero_()
    rows = iter(weights.rows)

    def take(n):
        return [next(rows) for _ in range(n)]

    _load_conv_bn(model.input, *take(4))
    for block in model.tower:
        _load_conv_bn(block.conv1, *take(4))
        _load_conv_bn(block.conv2, *take(4))
    _load_conv_bn(model.policy_conv, *take(4))
    _load_linear(model.policy_fc, *take(2))
    _load_conv_bn(model.value_conv, *take(4))
    _load_linear(model.value_fc1, *take(2))
    _load_linear(model.value_fc2, *take(2))
    return model.eval()


def _load_linear(layer, w, b) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w.reshape(layer.weight.shape)))
        layer.bias.copy_(torch.from_numpy(b))


def export_net(model, path: str | os.PathLike) -> None:
    """Write an `LZNet` as a v1 weights file (`.gz` by extension)."""
    write_weights(path, net_to_rows(model))


def load_net(path: str | os.PathLike, **net_options):
    """Read a v1 weights file into a fresh `LZNet` in eval mode."""
    return rows_to_net(read_weights(path), **net_options)
