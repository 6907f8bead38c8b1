"""Dead units, similarity and weight images of NNUE nets: synthetic HalfKP and the real SF 15.1."""

from __future__ import annotations

import chess
import numpy as np
import pytest

from zeroforge.analysis.dead import nnue_dead, nnue_unit_bounds
from zeroforge.analysis.figures import _unit_boxes
from zeroforge.analysis.nnue_eval import evaluate
from zeroforge.analysis.similarity import correlation, match, nnue_similarity, permute_nnue
from zeroforge.chess.nnue_arch import HALFKP, SFNNV5
from zeroforge.formats.nnue import random_net, read_nnue


def writable(net):
    net.ft_weights = np.array(net.ft_weights)
    net.ft_biases = np.array(net.ft_biases)
    return net


def test_halfkp_killed_units_exactly():
    net = writable(random_net(HALFKP, seed=1))
    assert nnue_dead(net)["never_positive_units"] == []
    net.ft_weights[:, [4, 77]] = 0
    net.ft_biases[[4, 77]] = [0, -3]
    net.ft_weights[:, 200] = -np.abs(net.ft_weights[:, 200])  # all weights <= 0, bias <= 0
    net.ft_biases[200] = -1
    report = nnue_dead(net)
    assert report["never_positive_units"] == [4, 77, 200]
    assert report["zero_weight_nonpositive_bias_units"] == [4, 77]
    assert "dead_pairs" not in report


def test_halfkp_bound_counts_thirty_pieces_in_one_king_block():
    net = writable(random_net(HALFKP, seed=2))
    net.ft_weights[:, 9] = 0
    net.ft_weights[641 * 5 + 1 : 641 * 5 + 41, 9] = 2  # 40 positive weights in king block 5
    net.ft_weights[641 * 6 + 1 : 641 * 6 + 11, 9] = 5  # 10 in block 6: 50 < 60
    net.ft_biases[9] = -60
    assert nnue_unit_bounds(net)[9] == 0  # 30 pieces x 2 - 60
    assert 9 in nnue_dead(net)["never_positive_units"]
    net.ft_biases[9] = -59
    assert 9 not in nnue_dead(net)["never_positive_units"]


def test_unread_inputs():
    net = random_net(HALFKP, seed=3)
    net.stacks[0][0].weights[:, [5, 256 + 5, 300]] = 0
    assert nnue_dead(net)["unread_fc0_inputs"] == [5, 261, 300]


def test_halfkp_permuted_copy_has_similarity_one():
    net = random_net(HALFKP, seed=4)
    perm = np.random.default_rng(0).permutation(256)
    result = nnue_similarity(net, permute_nnue(net, perm))
    assert result["mean_matched_correlation"] == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(perm[result["perm"]], np.arange(256))


def test_unrelated_units_have_low_matched_correlation():
    rng = np.random.default_rng(5)
    a, b = rng.integers(-50, 50, (5000, 64)), rng.integers(-50, 50, (5000, 64))
    assert abs(match(correlation(a, b))["mean_matched_correlation"]) < 0.1
    mixed = np.concatenate([a[:, :32], b[:, 32:]], axis=1)  # half the units shared
    assert match(correlation(a, mixed))["mean_matched_correlation"] == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("arch", [SFNNV5, HALFKP])
def test_weight_image_places_each_feature(arch):
    """One non-zero weight shows up at its king cell, piece plane and square."""
    units = 3
    values = np.zeros((arch.features, units), dtype=np.int16)
    block = arch.features // arch.king_buckets
    bucket, plane, square, unit = 6, 2, 8 * 2 + 5, 1  # king cell 6, plane 2, square f3
    values[bucket * block + arch.block_offset + 64 * plane + square, unit] = 9
    net = random_net(arch, seed=0) if arch is HALFKP else None
    boxes = _unit_boxes(net or _ArchOnly(arch), values)
    (u, row, col) = np.argwhere(boxes)[0]
    cells_per_row = 4 if arch is SFNNV5 else 8
    if arch is SFNNV5:  # bucket 6 = second row from the top, file g (3 - 6 % 4 = 1 from e)
        king_row, king_col = bucket // 4, 3 - bucket % 4
    else:  # king square 6 = g1: bottom row
        king_row, king_col = 7 - bucket // 8, bucket % 8
    assert u == unit and boxes.shape == (units, 64, cells_per_row * arch.planes * 8)
    assert (row, col) == (
        king_row * 8 + 7 - square // 8,
        (king_col * arch.planes + plane) * 8 + square % 8,
    )


class _ArchOnly:
    def __init__(self, arch):
        self.arch = arch


@pytest.mark.engine
def test_real_net_dead_units_and_killed_pairs(sf15_net_path):
    net = writable(read_nnue(sf15_net_path))
    clean = nnue_dead(net)
    assert clean["never_positive_units"] == [] and clean["dead_pairs"] == []
    net.ft_weights[:, [3, 700]] = 0
    net.ft_biases[[3, 700]] = -5
    net.ft_weights[:, 11] = np.minimum(net.ft_weights[:, 11], 1)
    net.ft_weights[:704, 11] = 1  # bound = bias + 32 = 1: unit 11 alive, but 1 * 127 < 128
    net.ft_weights[704:, 11] = 0
    net.ft_biases[11] = -31
    report = nnue_dead(net)
    assert report["never_positive_units"] == [3, 700]
    assert report["dead_pairs"] == [3, 11, 700 - 512]


@pytest.mark.engine
@pytest.mark.slow
def test_real_net_permuted_copy_similarity_one_and_same_eval(sf15_net_path):
    net = read_nnue(sf15_net_path)
    rng = np.random.default_rng(1)
    perm, swap = rng.permutation(512), rng.random(512) < 0.5
    copy = permute_nnue(net, perm, swap)
    result = nnue_similarity(net, copy)
    assert result["mean_matched_correlation"] == pytest.approx(1.0, abs=1e-5)
    assert result["min_matched_correlation"] == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(perm[result["perm"]], np.arange(512))
    board = chess.Board("r1bq1rk1/pp2bppp/2n1pn2/3p4/2PP4/2N2N2/PP2BPPP/R2QKB1R b KQ - 2 8")
    assert evaluate(copy, board) == evaluate(net, board)
