"""Dead units: hidden units whose output can never be positive, for LZ nets and NNUE nets.

The rules bound each unit's pre-activation from above and call the unit dead when the bound is
<= 0, so a unit reported dead is provably dead (never a guess); units that are merely rarely
active are not reported.

Leela Zero (BN(x) = (x + b - mean) / sqrt(var + eps), then ReLU; sqrt > 0 keeps the sign):
* input conv: the 18 input planes lie in [0, 1] (zero padding included), so the pre-activation of
  channel c is at most sum(max(w, 0)) + b - mean; dead when that is <= 0.
* later convs: their inputs are ReLU outputs, >= 0 but unbounded, so the only bound is: every
  weight from a live input channel <= 0 and b - mean <= 0 => never positive (inputs from channels
  already known dead are exactly 0 and do not count).
* residual stream: out = relu(skip + bn2(conv2 ...)), so a stream channel is dead after a block
  when it was dead before the block and the block's conv2 channel can never be positive.
* "constant" channels: all weights from live inputs ~0 (|w| <= ZERO_TOL_REL * max|w| of the
  layer): the output is the constant relu((b - mean) / sqrt(var + eps)); reported with that value.

NNUE (transformer output = clamp(accumulator, 0, 127); the accumulator = bias + the weights of the
active features, at most MAX_ACTIVE of them, all from one king bucket (HalfKAv2_hm) or king square
(HalfKP)): a unit's upper bound is bias + max over king blocks of the sum of its largest
MAX_ACTIVE positive weights in that block; dead when <= 0. This contains the "~zero weights and
non-positive bias" case. SFNNv5 multiplies unit j with unit j+512 (clamp(a) * clamp(b) / 128), so
pair j is dead when min(bound_j, 127) * min(bound_j+512, 127) < 128 (either unit dead suffices).
Outputs no stack reads (all weights of that input column of fc_0 zero) are listed as unread.
"""

from __future__ import annotations

import numpy as np

from zeroforge.analysis.nets import LZTensors
from zeroforge.chess.nnue_arch import SFNNV5
from zeroforge.formats.nnue import NnueNet

ZERO_TOL_REL = 1e-6
BN_EPS = 1e-5  # Leela Zero's batch-norm epsilon (docs/ENGINES.md#leela-zero-weights-files)
CLIP = 127
PAIR_DIVISOR = 128
MAX_ACTIVE = {"HalfKP": 30, "SFNNv5": 32}  # non-king pieces (HalfKP); all pieces (HalfKAv2_hm)


# ---------------------------------------------------------------- NNUE


def nnue_unit_bounds(net: NnueNet) -> np.ndarray:
    """Upper bound of every transformer unit's accumulator (int64 [half_dims])."""
    arch = net.arch
    active = MAX_ACTIVE["SFNNv5" if arch is SFNNV5 else "HalfKP"]
    block = arch.features // arch.king_buckets
    weights = net.ft_weights.reshape(arch.king_buckets, block, arch.half_dims)
    weights = weights[:, arch.block_offset :, :]
    positive = np.maximum(weights, 0)
    top = np.partition(positive, positive.shape[1] - active, axis=1)[:, -active:, :]
    best_block = top.astype(np.int64).sum(axis=1).max(axis=0)
    return net.ft_biases.astype(np.int64) + best_block


def _unread_inputs(net: NnueNet) -> np.ndarray:
    """Transformed-feature inputs of fc_0 whose column is zero in every stack."""
    columns = np.zeros(net.stacks[0][0].weights.shape[1], dtype=bool)
    for stack in net.stacks:
        columns |= (stack[0].weights != 0).any(axis=0)
    return np.flatnonzero(~columns)


def nnue_dead(net: NnueNet) -> dict:
    active = MAX_ACTIVE["SFNNv5" if net.arch is SFNNV5 else "HalfKP"]
    bounds = nnue_unit_bounds(net)
    never = np.flatnonzero(bounds <= 0)
    zero_weight = np.flatnonzero(np.abs(net.ft_weights).max(axis=0) <= 1)
    out = {
        "units": int(net.arch.half_dims),
        "never_positive_units": never.tolist(),
        "zero_weight_units": zero_weight.tolist(),
        "zero_weight_nonpositive_bias_units": [
            int(j) for j in zero_weight if net.ft_biases[j] <= 0
        ],
        "unread_fc0_inputs": _unread_inputs(net).tolist(),
        "rule": f"accumulator <= bias + top-{active} positive weights of the best king block",
    }
    if net.arch is SFNNV5:
        half = net.arch.half_dims // 2
        clipped = np.clip(bounds, 0, CLIP)
        out["dead_pairs"] = np.flatnonzero(clipped[:half] * clipped[half:] < PAIR_DIVISOR).tolist()
        out["pairs"] = half
    return out


# ---------------------------------------------------------------- Leela Zero


def _never_positive(
    w: np.ndarray, shift: np.ndarray, live_in: np.ndarray, inputs_unit_range: bool
) -> np.ndarray:
    """Output channels whose pre-BN value + shift (= b - mean) can never be > 0."""
    w = w[:, live_in]
    if inputs_unit_range:
        bound = np.maximum(w, 0).reshape(w.shape[0], -1).sum(axis=1) + shift
        return bound <= 0
    return ((w <= 0).reshape(w.shape[0], -1).all(axis=1)) & (shift <= 0)


def _constant(w: np.ndarray, live_in: np.ndarray) -> np.ndarray:
    peak = float(np.abs(w).max()) if w.size else 0.0
    w = w[:, live_in].reshape(w.shape[0], -1)
    if w.shape[1] == 0:
        return np.ones(w.shape[0], dtype=bool)
    return np.abs(w).max(axis=1) <= ZERO_TOL_REL * peak


def _conv_layer(
    t: dict[str, np.ndarray], prefix: str, live_in: np.ndarray, unit_inputs: bool
) -> tuple[np.ndarray, dict]:
    w = t[f"{prefix}.conv_w"]
    shift = (t[f"{prefix}.conv_b"] - t[f"{prefix}.bn_mean"]).astype(np.float64)
    dead = _never_positive(w, shift, live_in, unit_inputs)
    constant = _constant(w, live_in) & ~dead
    value = np.maximum(shift / np.sqrt(t[f"{prefix}.bn_var"].astype(np.float64) + BN_EPS), 0)
    report = {
        "dead": np.flatnonzero(dead).tolist(),
        "constant": {int(c): float(value[c]) for c in np.flatnonzero(constant)},
    }
    return dead, report


def lz_dead(lz: LZTensors) -> dict:
    """Dead and constant channels per layer (names as in formats.lzweights.row_layout)."""
    t = lz.tensors
    layers: dict[str, dict] = {}
    planes = t["input.conv_w"].shape[1]
    stream_dead, layers["input"] = _conv_layer(t, "input", np.ones(planes, bool), True)
    for i in range(lz.blocks):
        conv1_dead, layers[f"tower.{i}.conv1"] = _conv_layer(
            t, f"tower.{i}.conv1", ~stream_dead, False
        )
        branch_dead, layers[f"tower.{i}.conv2"] = _conv_layer(
            t, f"tower.{i}.conv2", ~conv1_dead, False
        )
        stream_dead = stream_dead & branch_dead
        layers[f"tower.{i}.out"] = {"dead": np.flatnonzero(stream_dead).tolist()}
    for head in ("policy", "value"):
        _, layers[head] = _conv_layer(t, head, ~stream_dead, False)
    return {
        "filters": lz.filters,
        "blocks": lz.blocks,
        "layers": layers,
        "dead_total": sum(
            len(r["dead"]) for name, r in layers.items() if not name.endswith(".out")
        ),
        "rule": "input conv: sum(max(w,0)) + b - mean <= 0 (inputs in [0,1]); later convs: all "
        "weights from live inputs <= 0 and b - mean <= 0; stream channel dead after a block if "
        "dead before and its conv2 channel never positive",
    }
