"""The NNUE forward pass against Stockfish 15.1's own `eval` trace, bucket by bucket."""

from __future__ import annotations

import chess
import pytest

from zeroforge.analysis.nnue_check import (
    eval_traces,
    our_cells,
    our_nnue_value,
    printed_nnue_value,
    random_positions,
    trace_bucket,
    trace_cells,
)
from zeroforge.analysis.nnue_eval import evaluate, evaluate_float, layer_stack_bucket
from zeroforge.formats.nnue import read_nnue

pytestmark = pytest.mark.engine

FIXED_FENS = [
    chess.STARTING_FEN,
    "rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2",
    "r1bq1rk1/pp2bppp/2n1pn2/3p4/2PP4/2N2N2/PP2BPPP/R2QKB1R b KQ - 2 8",
    "3qk3/8/8/8/8/8/8/3RK3 w - - 0 1",
    "8/5k2/8/3K4/8/8/4P3/8 w - - 0 1",
    "8/5k2/8/3K4/8/8/4P3/8 b - - 0 1",
    "6k1/5pp1/7p/8/8/1P6/P4PPP/2R3K1 b - - 0 30",
    "2kr3r/ppp2ppp/2n5/8/8/2N5/PPP2PPP/R3K2R w KQ - 4 15",
]


@pytest.fixture(scope="module")
def engine_traces(sf15_net_path):
    fens = FIXED_FENS + random_positions(16)
    return read_nnue(sf15_net_path), list(zip(fens, eval_traces(fens, None), strict=True))


def test_positions_cover_buckets_and_sides():
    boards = [chess.Board(f) for f in FIXED_FENS + random_positions(16)]
    assert {b.turn for b in boards} == {chess.WHITE, chess.BLACK}
    assert len({layer_stack_bucket(b) for b in boards}) >= 5


def test_every_bucket_matches_stockfish_trace(engine_traces):
    net, traces = engine_traces
    for fen, block in traces:
        ours = evaluate(net, chess.Board(fen))
        assert our_cells(ours) == trace_cells(block), fen
        assert ours.bucket == trace_bucket(block)


def test_nnue_evaluation_line_matches(engine_traces):
    net, traces = engine_traces
    for fen, block in traces:
        board = chess.Board(fen)
        ours = evaluate(net, board)
        assert our_nnue_value(ours, board) == printed_nnue_value(block), fen
        value = ours.value
        # the dequantised float network (no integer floors) stays within a few percent
        assert abs(evaluate_float(net, board) - value) <= 12 + 0.05 * abs(value), fen
