"""Similarity of two nets that does not depend on the order of their hidden units.

Hidden units can be permuted without changing what a net computes, so units are compared by the
Pearson correlation of their incoming weight vectors, the best one-to-one matching is found with
scipy's linear_sum_assignment (maximising the total correlation), and the similarity is the mean
correlation of matched units: 1 for a net and any permuted copy of it.

* NNUE: a unit's vector is its transformer weight column. In SFNNv5 unit j is multiplied with
  unit j+512, so the pair is one unit (vector = both columns) and may appear swapped in the
  other net (the product is symmetric): each pair is compared both ways and the better kept.
* Leela Zero: the input conv fixes the permutation of the residual stream (its inputs, the 18
  planes, have a fixed order); every block's conv1 channels are matched after re-ordering their
  inputs by the stream permutation; conv2 outputs (the stream) are scored under the stream
  permutation; head convs and the value FC's hidden units likewise. The similarity is the mean
  over layers.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from zeroforge.analysis.nets import LZTensors
from zeroforge.formats.nnue import SFNNV5, Layer, NnueNet


def _standardise(vectors: np.ndarray) -> np.ndarray:
    """Columns -> zero mean, unit norm (float32); constant columns become zero."""
    x = vectors.astype(np.float32)
    x -= x.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(x, axis=0, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[units_a, units_b] correlations of the columns of a and b (same number of rows)."""
    return _standardise(a).T @ _standardise(b)


def match(corr: np.ndarray) -> dict:
    """Best matching of rows to columns; `perm[i]` is the column matched with row i."""
    rows, cols = linear_sum_assignment(corr, maximize=True)
    matched = corr[rows, cols]
    perm = np.empty(corr.shape[0], dtype=np.int64)
    perm[rows] = cols
    return {
        "mean_matched_correlation": float(matched.mean()),
        "min_matched_correlation": float(matched.min()),
        "median_matched_correlation": float(np.median(matched)),
        "units": int(corr.shape[0]),
        "perm": perm,
        "matched": matched,
    }


# ---------------------------------------------------------------- NNUE


def nnue_unit_correlation(a: NnueNet, b: NnueNet) -> np.ndarray:
    """Correlation matrix of transformer units (SFNNv5: of unit pairs, best of both orders)."""
    if a.arch is not b.arch:
        raise ValueError(f"cannot compare {a.arch.name} with {b.arch.name}")
    if a.arch is not SFNNV5:
        return correlation(a.ft_weights, b.ft_weights)
    half = a.arch.half_dims // 2
    za = _standardise(np.concatenate([a.ft_weights[:, :half], a.ft_weights[:, half:]]))
    zb = _standardise(np.concatenate([b.ft_weights[:, :half], b.ft_weights[:, half:]]))
    rows = zb.shape[0] // 2
    zb_swapped = np.concatenate([zb[rows:], zb[:rows]])
    return np.maximum(za.T @ zb, za.T @ zb_swapped)


def nnue_similarity(a: NnueNet, b: NnueNet) -> dict:
    corr = nnue_unit_correlation(a, b)
    out = match(corr)
    out["unit"] = "pair j/j+512" if a.arch is SFNNV5 else "transformer unit"
    out["corr"] = corr
    return out


def permute_nnue(net: NnueNet, perm: np.ndarray, swap: np.ndarray | None = None) -> NnueNet:
    """An equivalent net with transformer units re-ordered: new unit k = old unit perm[k]
    (SFNNv5: perm over the 512 pairs, `swap[k]` exchanges the two units of pair k)."""
    half = net.arch.half_dims // 2 if net.arch is SFNNV5 else net.arch.half_dims
    if net.arch is SFNNV5:
        swap = np.zeros(half, bool) if swap is None else swap
        first = np.where(swap, perm + half, perm)
        order = np.concatenate([first, np.where(swap, perm, perm + half)])
        fc0_order = np.concatenate([perm, perm + half])  # two perspectives of 512 products
    else:
        order = perm
        fc0_order = np.concatenate([perm, perm + half])
    stacks = [
        [Layer(stack[0].biases, stack[0].weights[:, fc0_order]), *stack[1:]] for stack in net.stacks
    ]
    return NnueNet(
        net.arch,
        net.description,
        net.ft_biases[order],
        net.ft_weights[:, order],
        net.psqt_weights,
        stacks,
    )


# ---------------------------------------------------------------- Leela Zero


def _rows(w: np.ndarray) -> np.ndarray:
    """Output units as columns: [cout, ...] -> [fan_in, cout]."""
    return w.reshape(w.shape[0], -1).T


def _fixed(corr: np.ndarray, perm: np.ndarray) -> dict:
    matched = corr[np.arange(corr.shape[0]), perm]
    return {
        "mean_matched_correlation": float(matched.mean()),
        "units": int(corr.shape[0]),
        "matched": matched,
    }


def lz_similarity(a: LZTensors, b: LZTensors) -> dict:
    if (a.blocks, a.filters) != (b.blocks, b.filters):
        raise ValueError(f"cannot compare {a.blocks}x{a.filters} with {b.blocks}x{b.filters} nets")
    ta, tb = a.tensors, b.tensors
    layers: dict[str, dict] = {}
    layers["input"] = match(correlation(_rows(ta["input.conv_w"]), _rows(tb["input.conv_w"])))
    stream = layers["input"]["perm"]  # a's stream channel c is b's channel stream[c]
    for i in range(a.blocks):
        w1b = tb[f"tower.{i}.conv1.conv_w"][:, stream]
        conv1 = match(correlation(_rows(ta[f"tower.{i}.conv1.conv_w"]), _rows(w1b)))
        layers[f"tower.{i}.conv1"] = conv1
        w2b = tb[f"tower.{i}.conv2.conv_w"][:, conv1["perm"]]
        corr = correlation(_rows(ta[f"tower.{i}.conv2.conv_w"]), _rows(w2b))
        layers[f"tower.{i}.conv2"] = _fixed(corr, stream)
    for head in ("policy", "value"):
        wb = tb[f"{head}.conv_w"][:, stream]
        corr = correlation(_rows(ta[f"{head}.conv_w"]), _rows(wb))
        layers[head] = _fixed(corr, np.arange(corr.shape[0]))
    layers["value.fc1"] = match(correlation(ta["value.fc1_w"].T, tb["value.fc1_w"].T))
    means = [layer["mean_matched_correlation"] for layer in layers.values()]
    return {
        "mean_matched_correlation": float(np.mean(means)),
        "layers": layers,
        "unit": "conv output channel (per layer)",
    }


def permute_lz(
    lz: LZTensors, stream: np.ndarray, inner: list[np.ndarray], hidden: np.ndarray | None = None
) -> LZTensors:
    """An equivalent LZ net: residual-stream channel c becomes old channel stream[c], block i's
    inner channels are re-ordered by inner[i], value FC hidden units by `hidden`."""
    t = {name: value.copy() for name, value in lz.tensors.items()}

    def outputs(prefix: str, order: np.ndarray) -> None:
        for part in ("conv_w", "conv_b", "bn_mean", "bn_var"):
            t[f"{prefix}.{part}"] = t[f"{prefix}.{part}"][order]

    outputs("input", stream)
    for i in range(lz.blocks):
        outputs(f"tower.{i}.conv1", inner[i])
        t[f"tower.{i}.conv1.conv_w"] = t[f"tower.{i}.conv1.conv_w"][:, stream]
        outputs(f"tower.{i}.conv2", stream)
        t[f"tower.{i}.conv2.conv_w"] = t[f"tower.{i}.conv2.conv_w"][:, inner[i]]
    for head in ("policy", "value"):
        t[f"{head}.conv_w"] = t[f"{head}.conv_w"][:, stream]
    if hidden is not None:
        t["value.fc1_w"], t["value.fc1_b"] = t["value.fc1_w"][hidden], t["value.fc1_b"][hidden]
        t["value.fc2_w"] = t["value.fc2_w"][:, hidden]
    return LZTensors(lz.blocks, lz.filters, t)
