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
from zeroforge.chess.nnue_arch import SFNNV5
from zeroforge.formats.nnue import Layer, NnueNet


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column sums and centred norms (float64; 0 for a constant column)."""
    sums = x.sum(axis=0, dtype=np.float64)
    squares = np.einsum("ij,ij->j", x, x, dtype=np.float64)
    return sums, np.sqrt(np.maximum(squares - sums * sums / x.shape[0], 0))


def _from_gram(gram: np.ndarray, n: int, a: tuple, b: tuple) -> np.ndarray:
    """Correlations from the Gram matrix; a constant column correlates 0 with anything but an
    equal constant column (1), so a net with dead units still matches itself perfectly."""
    (sum_a, norm_a), (sum_b, norm_b) = a, b
    norms = np.outer(norm_a, norm_b)
    corr = (gram - np.outer(sum_a, sum_b) / n) / np.where(norms > 0, norms, np.inf)
    both_constant = np.outer(norm_a == 0, norm_b == 0)
    if both_constant.any():
        corr[both_constant & (sum_a[:, None] == sum_b[None, :])] = 1.0
    return corr


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[units_a, units_b] Pearson correlations of the columns of a and b (same rows).

    Computed from the float64 Gram matrix: for int16 weights every product and sum is an
    integer below 2**53, so the Gram matrix is exact and a copy correlates to 1 to ~1e-15."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return _from_gram(a64.T @ b64, a.shape[0], _moments(a64), _moments(b64))


def match(corr: np.ndarray) -> dict:
    """Best matching of rows to columns; `perm[i]` is the column matched with row i."""
    rows, cols = linear_sum_assignment(corr, maximize=True)
    matched = np.clip(corr[rows, cols], -1.0, 1.0)
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
    a1, a2 = (a.ft_weights[:, s].astype(np.float64) for s in (slice(None, half), slice(half, None)))
    b1, b2 = (b.ft_weights[:, s].astype(np.float64) for s in (slice(None, half), slice(half, None)))
    n = 2 * a1.shape[0]
    # moments of the concatenated pair vector [w_j; w_j+512] are sums of the halves' moments
    ma = _pair_moments(a1, a2)
    mb = _pair_moments(b1, b2)
    straight = _from_gram(a1.T @ b1 + a2.T @ b2, n, ma, mb)
    swapped = _from_gram(a1.T @ b2 + a2.T @ b1, n, ma, mb)
    return np.maximum(straight, swapped)


def _pair_moments(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _moments(np.concatenate([x1, x2]))


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
    corr = correlation(_rows(ta["input.conv_w"]), _rows(tb["input.conv_w"]))
    layers["input"] = {**match(corr), "corr": corr}
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
