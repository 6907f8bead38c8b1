"""Nets written by zeroforge, loaded by the real Stockfish 15.1: its `eval` equals our integer
forward pass on 200 positions (every bucket's PSQT and positional term, both sides to move), and
Stockfish's own net survives import -> export byte for byte."""

from __future__ import annotations

import chess
import pytest
import torch

from tests.analysis.stockfish_net import (
    eval_traces,
    export_stockfish_net,
    our_cells,
    our_nnue_value,
    printed_nnue_value,
    random_positions,
    trace_bucket,
    trace_cells,
)
from zeroforge.analysis.nnue_eval import evaluate
from zeroforge.formats.nnue import nnue_bytes, read_nnue
from zeroforge.formats.nnue_export import export_nnue, import_nnue, quantise
from zeroforge.nn.sfnnv5 import NNUE2SCORE, NUM_FEATURES, SFNNv5
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


def test_stockfish_net_import_export_is_byte_identical(sf15_path, tmp_path):
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
    boards = [chess.Board(fen) for fen in fens]
    assert {b.turn for b in boards} == {chess.WHITE, chess.BLACK}
    assert len({(b.turn, len(b.piece_map()) // 4) for b in boards}) >= 12
    exported = read_nnue(path)
    for board, block in zip(boards, eval_traces(fens, evalfile=path), strict=True):
        ours = evaluate(exported, board)
        assert our_cells(ours) == trace_cells(block), board.fen()
        assert ours.bucket == trace_bucket(block)
        assert our_nnue_value(ours, board) == printed_nnue_value(block), board.fen()
    # the float net stays near its quantised self (random weights round worse than trained
    # ones: each FT weight here is ~9 integer steps, so a few percent)
    with torch.no_grad():
        floats = net(*board_batch(boards)).double() * NNUE2SCORE
    ints = torch.tensor([evaluate(exported, b).value for b in boards], dtype=torch.float64)
    assert (floats - ints).abs().mean() < 10 + 0.04 * ints.abs().mean()
