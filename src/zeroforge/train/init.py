"""Initialisation options of the `init` config group, applied to a freshly built network.

`kind: default` keeps PyTorch's own init. `kind: input_bias` sets the input layer's biases to a
positive constant plus Gaussian noise (nodchip's choice for NNUE: fewer dead units at the start).
An LZ convolution has no bias of its own; the input layer's bias is its batch-norm beta, which
the exporter folds into the engine's conv bias.

`init_from=PATH` (top level of the config) starts from the weights of any net `load_any_net`
reads (Leela Zero `.txt`/`.gz`, our checkpoints, Lightning's, `weights import`'s): weights and
BN statistics only, the optimizer, schedule and step start fresh. The network's shape (blocks,
filters, kind) is the file's; training options of the config (`bn_momentum`, `affine_gamma`)
are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import torch
from torch import nn

from zeroforge.convert.nets import load_any_net

INIT_KINDS = ("default", "input_bias")
# kept from the config under init_from (SFNNv5: virtual features join or leave at no cost)
TRAINING_OPTIONS = ("bn_momentum", "affine_gamma", "factorized")


def _shape(network: Mapping[str, Any]) -> str:
    if network.get("kind") == "sfnnv5":
        return "SFNNv5"
    return f"{network.get('blocks')}x{network.get('filters')}"


def network_from_file(path: str, network: MutableMapping[str, Any]) -> tuple[nn.Module, str]:
    """The net of `init_from=path`; `network` (the config's section) takes its shape in place.
    Returns the net and a one-line note. Errors (ValueError) name the file."""
    net = load_any_net(path)
    wanted = net.config()
    for key in TRAINING_OPTIONS:
        if key in wanted and key in network:
            wanted[key] = network[key]
    if "factorized" in wanted and wanted["factorized"] != net.config()["factorized"]:
        net = net.refactored(bool(wanted["factorized"]))
    before, shape = _shape(network), _shape(wanted)
    for key in [k for k in network if k not in wanted]:
        del network[key]
    network.update(wanted)
    note = f"init_from {path}: a {shape} network (weights only: fresh optimizer, schedule, step)"
    if before != shape:
        note += f"; the config's {before} is replaced by the file's shape"
    return net, note


def load_weights(net: nn.Module, source: nn.Module, path: str) -> None:
    """Copy `source`'s parameters and buffers into `net` (built from the same description;
    training-only heads that `source` lacks, nn/aux_heads.py, keep their fresh weights)."""
    try:
        missing, unexpected = net.load_state_dict(source.state_dict(), strict=False)
        missing = [key for key in missing if not key.startswith("aux.")]
        if missing or unexpected:
            raise RuntimeError(f"missing {missing}, unexpected {unexpected}")
    except RuntimeError as error:
        raise ValueError(f"init_from {path}: weights do not fit the network: {error}") from None


def input_layer_bias(net: nn.Module) -> torch.Tensor:
    """The bias of the network's input layer (an LZNet: the input batch norm's beta)."""
    layer = net.input
    bias = getattr(layer, "bn", layer).bias
    if bias is None:
        raise ValueError(f"{type(net).__name__}: input layer has no bias to initialise")
    return bias


def initialize(net: nn.Module, cfg: Mapping[str, Any], seed: int) -> None:
    kind = cfg.get("kind", "default")
    if kind not in INIT_KINDS:
        raise ValueError(f"init.kind: {kind!r} is not one of {INIT_KINDS}")
    if kind == "input_bias":
        bias = input_layer_bias(net)
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(bias.shape, generator=generator) * float(cfg.get("noise", 0.0))
        with torch.no_grad():
            bias.copy_(float(cfg["value"]) + noise)
