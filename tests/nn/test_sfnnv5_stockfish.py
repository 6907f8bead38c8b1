"""Nets written by zeroforge, loaded by the real Stockfish 15.1: its `eval` equals our integer
forward pass on 200 positions (every bucket's PSQT and positional term, both sides to move), and
Stockfish's own net survives import -> export byte for byte."""

from __future__ import annotations

import chess
import pytest
import torch

from tests.analysis.stockfish_net import export_stockfish_net
from zeroforge.analysis.nnue_check import check_net, float_gap, random_positions
from zeroforge.convert.nnue import export_nnue, import_nnue, quantise
from zeroforge.formats.nnue import nnue_bytes, read_nnue
from zeroforge.nn.sfnnv5 import NUM_FEATURES, SFNNv5
from zeroforge.play.engines import have_engine

from .chess_batches import board_batch

pytestmark = pytest.mark.engine
POSITIONS = 200


@pytest.fixture(scope="module")
def sf15_path(tmp_path_factory):
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    return export_stockfish_net(tmp_path_factory.mktemp("sf15"))


def trained_like_net(seed: int) -> SFNNv5:
    """A factorised net with weights in the ranges trained nets have (accumulators around the
    clipping range, squared and plain ReLUs both active, some int8 weights at the clip)."""
    torch.manual_seed(seed)
    net = SFNNv5(factorized=True, description="zeroforge test net")
    with torch.no_grad():
        net.input.weight[:, :1024].normal_(0, 0.07)
        net.input.weight[NUM_FEATURES:, :1024].normal_(0, 0.05)
        net.input.weight[:, 1024:] += torch.randn_like(net.input.weight[:, 1024:]) * 0.5
        net.input.bias.normal_(0.4, 0.2)
        for layer, std in ((net.fc0, 0.06), (net.fc1, 0.3), (net.fc2, 0.6)):
            layer.weight.normal_(0, std)
            layer.bias.normal_(0, 0.2)
    net.clip_weights()
    return net.eval()


def test_stockfish_net_import_export_is_byte_identical(sf15_path):
    net = import_nnue(sf15_path)
    assert nnue_bytes(quantise(net)) == sf15_path.read_bytes()
    # and it trains: the float net is an ordinary module with gradients
    boards = [chess.Board(fen) for fen in random_positions(4, seed=1)]
    net.train()(*board_batch(boards)).sum().backward()
    assert net.input.weight.grad.abs().sum() > 0


def test_stockfish_eval_equals_ours_on_an_exported_net(lowercase_tmp):
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    net = trained_like_net(seed=11)
    path = lowercase_tmp / "zf.nnue"
    export_nnue(net, path)
    fens = random_positions(POSITIONS, seed=21)
    report = check_net(path, fens)
    assert report.ok, report.mismatches
    assert report.positions == POSITIONS and 0 < report.white_to_move < POSITIONS
    assert len(report.buckets) >= 6
    # the float net stays near its quantised self (random weights round worse than trained
    # ones: each FT weight here is ~9 integer steps, so a few percent)
    gap = float_gap(net, path, fens)
    assert gap["mean_abs"] < 10 + 0.04 * gap["mean_abs_eval"]


def test_the_check_sees_a_one_unit_difference(lowercase_tmp):
    """The check can fail: our pass of a copy whose output biases moved by one internal unit
    (x 16 in the file's units) disagrees with Stockfish's pass of the file."""
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    path = lowercase_tmp / "zf.nnue"
    exported = export_nnue(trained_like_net(seed=12), path)
    shifted = read_nnue(path)
    for stack in shifted.stacks:
        stack[2].biases = stack[2].biases + 16 * 4  # 4 internal units: over one printed step
    fens = random_positions(20, seed=2)
    assert check_net(path, fens, ours=exported).ok
    report = check_net(path, fens, ours=shifted)
    assert report.equal < report.positions and report.mismatches
