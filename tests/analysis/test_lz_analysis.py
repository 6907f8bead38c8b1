"""Dead channels and permutation-invariant similarity of Leela Zero nets."""

from __future__ import annotations

import numpy as np
import pytest

from zeroforge.analysis.dead import lz_dead
from zeroforge.analysis.similarity import lz_similarity, permute_lz

from .lz_rows import lz_rows, random_lz


def kill(lz, prefix: str, channels: list[int], how: str) -> None:
    t = lz.tensors
    w = t[f"{prefix}.conv_w"]
    for c in channels:
        if how == "zero":  # zero weights, bias <= mean: constant relu(<= 0) = 0
            w[c] = 0
            t[f"{prefix}.conv_b"][c] = 0.0
            t[f"{prefix}.bn_mean"][c] = 0.25
        else:  # negative weights, bias below mean: never positive for inputs >= 0
            w[c] = -np.abs(w[c])
            t[f"{prefix}.conv_b"][c] = -0.1
            t[f"{prefix}.bn_mean"][c] = 0.3


def test_random_net_has_no_dead_channels():
    report = lz_dead(random_lz(seed=1))
    assert report["dead_total"] == 0
    assert all(not layer["dead"] for layer in report["layers"].values())


def test_killed_channels_are_reported_exactly():
    lz = random_lz(blocks=3, filters=16, seed=2)
    kill(lz, "input", [3, 7], "zero")
    kill(lz, "tower.0.conv1", [5], "negative")
    kill(lz, "tower.1.conv1", [0, 15], "zero")
    kill(lz, "tower.2.conv2", [3], "negative")
    kill(lz, "policy", [1], "negative")
    layers = lz_dead(lz)["layers"]
    dead = {name: layer["dead"] for name, layer in layers.items() if layer["dead"]}
    assert dead == {
        "input": [3, 7],
        "tower.0.conv1": [5],
        "tower.1.conv1": [0, 15],
        "tower.2.conv2": [3],
        "policy": [1],
    }
    # a dead stream channel revives when a block's conv2 can write to it
    assert layers["tower.0.out"]["dead"] == []


def test_input_layer_bound_uses_unit_input_range():
    """Input planes lie in [0, 1]: a small positive weight can be outweighed by b - mean."""
    lz = random_lz(seed=3)
    t = lz.tensors
    t["input.conv_w"][4] = -0.5
    t["input.conv_w"][4, 2, 1, 1] = 0.2  # at most +0.2 from the inputs
    t["input.conv_b"][4], t["input.bn_mean"][4] = 0.0, 0.25  # shift -0.25: never positive
    t["input.conv_w"][9] = -0.5
    t["input.conv_w"][9, 2, 1, 1] = 0.3  # +0.3 beats -0.25: can be positive
    t["input.conv_b"][9], t["input.bn_mean"][9] = 0.0, 0.25
    assert lz_dead(lz)["layers"]["input"]["dead"] == [4]


def test_stream_channel_dead_through_a_block():
    lz = random_lz(blocks=1, filters=8, seed=4)
    kill(lz, "input", [2], "zero")
    kill(lz, "tower.0.conv2", [2], "negative")
    t = lz.tensors
    t["policy.conv_w"][0] = -np.abs(t["policy.conv_w"][0])
    t["policy.conv_w"][0, 2] = 1.0  # the only positive weight reads the dead stream channel
    t["policy.conv_b"][0], t["policy.bn_mean"][0] = 0.0, 0.1
    layers = lz_dead(lz)["layers"]
    assert layers["tower.0.out"]["dead"] == [2]
    assert layers["input"]["dead"] == [2] and layers["tower.0.conv2"]["dead"] == [2]
    assert layers["policy"]["dead"] == [0]


def test_zero_weight_channel_with_positive_shift_is_constant_not_dead():
    lz = random_lz(seed=5)
    t = lz.tensors
    t["tower.0.conv1.conv_w"][6] = 0
    t["tower.0.conv1.conv_b"][6], t["tower.0.conv1.bn_mean"][6] = 0.5, 0.1
    t["tower.0.conv1.bn_var"][6] = 1.0
    layer = lz_dead(lz)["layers"]["tower.0.conv1"]
    assert layer["dead"] == []
    assert layer["constant"] == {6: pytest.approx(0.4 / np.sqrt(1 + 1e-5))}


def permuted_copy(lz, seed: int):
    rng = np.random.default_rng(seed)
    stream = rng.permutation(lz.filters)
    inner = [rng.permutation(lz.filters) for _ in range(lz.blocks)]
    return permute_lz(lz, stream, inner, rng.permutation(256)), stream


def test_permuted_copy_has_similarity_one():
    lz = random_lz(blocks=3, filters=16, seed=6)
    copy, stream = permuted_copy(lz, seed=7)
    result = lz_similarity(lz, copy)
    assert result["mean_matched_correlation"] == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(stream[result["layers"]["input"]["perm"]], np.arange(16))
    other = lz_similarity(lz, random_lz(blocks=3, filters=16, seed=8))
    assert other["mean_matched_correlation"] < 0.5


def test_permuted_copy_computes_the_same_function(tmp_path):
    """The permutation used above really is a symmetry of the network (leelaz semantics)."""
    import torch

    from zeroforge.convert.lzweights import load_net
    from zeroforge.formats.lzweights import write_weights

    lz = random_lz(blocks=2, filters=8, seed=9)
    copy, _ = permuted_copy(lz, seed=10)
    write_weights(tmp_path / "a.txt", lz_rows(lz))
    write_weights(tmp_path / "b.txt", lz_rows(copy))
    planes = torch.from_numpy(np.random.default_rng(0).integers(0, 2, (4, 18, 19, 19)))
    with torch.no_grad():
        pa, va = load_net(tmp_path / "a.txt")(planes.float())
        pb, vb = load_net(tmp_path / "b.txt")(planes.float())
    assert torch.allclose(pa, pb, atol=1e-4) and torch.allclose(va, vb, atol=1e-5)
