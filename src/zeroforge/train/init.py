"""Initialisation options of the `init` config group, applied to a freshly built network.

`kind: default` keeps PyTorch's own init. `kind: input_bias` sets the input layer's biases to a
positive constant plus Gaussian noise (nodchip's choice for NNUE: fewer dead units at the start).
An LZ convolution has no bias of its own; the input layer's bias is its batch-norm beta, which
the exporter folds into the engine's conv bias.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

INIT_KINDS = ("default", "input_bias")


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
