"""SFNNv5 float net (nn/sfnnv5.py) <-> the integers of a Stockfish 15.1 `.nnue` file.

`quantise(net)` gives the `formats.nnue.NnueNet` Stockfish reads; `dequantise(nnue)` the float net
that quantises back to the very same integers, so a Stockfish net can be fine-tuned and a
re-export of an imported net is byte-identical. Scales (formats/nnue.py, nnue-pytorch's
serialize.py): transformer weights and biases x127 (int16), PSQT x9600 (int32), fc_0/fc_1
weights x64 and fc_2 weights x600*16/127 (int8), fc_0/fc_1 biases x127*64 and the fc_2 bias
x600*16 (int32). fc_1's 30 inputs are padded to 32 with zero columns. Values are rounded to the
nearest integer in float64; a value outside its integer type is clipped and counted (a warning):
training clips hidden weights itself (`SFNNv5.clip_weights`), so clipping at export means the
transformer grew beyond int16, which the caller should hear about.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from zeroforge.chess.nnue_arch import (
    FT_SCALE,
    HIDDEN_BIAS_SCALE,
    HIDDEN_WEIGHT_SCALE,
    OUTPUT_BIAS_SCALE,
    OUTPUT_WEIGHT_SCALE,
    PSQT_SCALE,
    SFNNV5,
)
from zeroforge.formats.nnue import Layer, NnueNet, padded, read_nnue, write_nnue
from zeroforge.nn.sfnnv5 import FC1_IN, HALF_DIMS, NUM_FEATURES, STACKS, SFNNv5

DEFAULT_DESCRIPTION = "SFNNv5 HalfKAv2_hm 1024x2-16-32 trained by zeroforge"
LAYER_SCALES = (  # (weight scale, bias scale) of fc_0, fc_1, fc_2
    (HIDDEN_WEIGHT_SCALE, HIDDEN_BIAS_SCALE),
    (HIDDEN_WEIGHT_SCALE, HIDDEN_BIAS_SCALE),
    (OUTPUT_WEIGHT_SCALE, OUTPUT_BIAS_SCALE),
)


def _to_int(values: torch.Tensor, scale: float, dtype: str, what: str) -> np.ndarray:
    scaled = torch.round(values.detach().cpu().double() * scale)  # half to even, as np.rint
    info = np.iinfo(dtype)
    if scaled.min() < info.min or scaled.max() > info.max:
        outside = int(((scaled < info.min) | (scaled > info.max)).sum())
        warnings.warn(f"NNUE export: {outside} {what} values clipped to {dtype}", stacklevel=3)
    return scaled.clamp_(info.min, info.max).numpy().astype(dtype)


def quantise(net, description: str | None = None) -> NnueNet:
    """The integers Stockfish 15.1 computes with, from an `SFNNv5` float net."""
    ft = net.input.real_weight()
    stacks = []
    for s in range(STACKS):
        stack = []
        for layer, (w_scale, b_scale) in zip(
            (net.fc0, net.fc1, net.fc2), LAYER_SCALES, strict=True
        ):
            out = layer.out_features // STACKS
            rows = slice(s * out, (s + 1) * out)
            weights = _to_int(layer.weight[rows], w_scale, "int8", "hidden weight")
            biases = _to_int(layer.bias[rows], b_scale, "int32", "hidden bias")
            full = np.zeros((out, padded(weights.shape[1])), dtype=np.int8)
            full[:, : weights.shape[1]] = weights
            stack.append(Layer(biases, full))
        stacks.append(stack)
    assert stacks[0][1].weights.shape[1] == padded(FC1_IN)
    return NnueNet(
        SFNNV5,
        description if description is not None else (net.description or DEFAULT_DESCRIPTION),
        _to_int(net.input.bias, FT_SCALE, "int16", "transformer bias"),
        _to_int(ft[:, :HALF_DIMS], FT_SCALE, "int16", "transformer weight"),
        _to_int(ft[:, HALF_DIMS:], PSQT_SCALE, "int32", "PSQT weight"),
        stacks,
    )


def dequantise(nnue: NnueNet, factorized: bool = False):
    """An `SFNNv5` whose `quantise` gives back exactly `nnue`'s integers (virtual rows zero)."""
    if nnue.arch is not SFNNV5:
        raise ValueError(f"only {SFNNV5.name} nets can be trained, not {nnue.arch.name}")
    for s, stack in enumerate(nnue.stacks):
        if stack[1].weights[:, FC1_IN:].any():
            raise ValueError(f"layer stack {s}: fc_1 padding columns are not zero")
    net = SFNNv5(factorized=factorized, description=nnue.description)

    def floats(values: np.ndarray, scale: float) -> torch.Tensor:
        return torch.from_numpy(np.asarray(values, dtype=np.float64) / scale).float()

    with torch.no_grad():
        net.input.weight.zero_()
        net.input.weight[:NUM_FEATURES, :HALF_DIMS] = floats(nnue.ft_weights, FT_SCALE)
        net.input.weight[:NUM_FEATURES, HALF_DIMS:] = floats(nnue.psqt_weights, PSQT_SCALE)
        net.input.bias.copy_(floats(nnue.ft_biases, FT_SCALE))
        layers = (net.fc0, net.fc1, net.fc2)
        for s, stack in enumerate(nnue.stacks):
            for layer, file_layer, (w_scale, b_scale) in zip(
                layers, stack, LAYER_SCALES, strict=True
            ):
                out = layer.out_features // len(nnue.stacks)
                rows = slice(s * out, (s + 1) * out)
                layer.weight[rows] = floats(file_layer.weights[:, : layer.in_features], w_scale)
                layer.bias[rows] = floats(file_layer.biases, b_scale)
    return net


def export_nnue(net, path: str | os.PathLike, description: str | None = None) -> NnueNet:
    """Quantise `net` and write it atomically as a `.nnue` file Stockfish 15.1 loads."""
    quantised = quantise(net, description)
    write_nnue(quantised, path)
    return quantised


def import_nnue(path: str | os.PathLike, factorized: bool = False):
    """A `.nnue` file (e.g. Stockfish's embedded net, `export_net`) -> a trainable SFNNv5."""
    nnue = read_nnue(path)
    try:
        return dequantise(nnue, factorized)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
