"""The batched integer forward pass (teacher labels) against the one-position pass, which
tests/analysis/test_nnue_eval.py checks against Stockfish 15.1's own `eval`."""

from __future__ import annotations

import itertools

import chess
import numpy as np
import pytest

from tests.nn.test_sfnnv5_stockfish import trained_like_net
from zeroforge.analysis.nnue_eval import evaluate, evaluate_features
from zeroforge.convert.nnue import quantise
from zeroforge.data.chess_decoder import read_decoded
from zeroforge.data.chess_records import iter_records

SAMPLE = "data/sample/chess/sf15-d6.binpack"


@pytest.fixture(scope="module")
def net():
    return quantise(trained_like_net(seed=5))


def buckets(records: np.ndarray) -> np.ndarray:
    return (records["pieces"].astype(np.int64) - 1) // 4


def test_batch_equals_one_position_pass(net):
    records = read_decoded(SAMPLE)[:150]
    values = evaluate_features(net, records["us"], records["them"], buckets(records))
    boards = [chess.Board(r.fen) for r in itertools.islice(iter_records(SAMPLE), 150)]
    expected = [evaluate(net, board).value for board in boards]
    assert values.tolist() == expected
    assert len(set(buckets(records).tolist())) >= 4  # several layer stacks in the batch
    assert len({board.turn for board in boards}) == 2


def test_accumulator_wraps_like_stockfish(net):
    """A transformer bias near the int16 limit: the accumulator must wrap, not saturate."""
    net.ft_biases = net.ft_biases.copy()
    net.ft_biases[:8] = 32_700
    records = read_decoded(SAMPLE)[:20]
    values = evaluate_features(net, records["us"], records["them"], buckets(records))
    boards = [chess.Board(r.fen) for r in itertools.islice(iter_records(SAMPLE), 20)]
    assert values.tolist() == [evaluate(net, board).value for board in boards]


def test_empty_batch(net):
    empty = np.zeros((0, 32), dtype=np.int16)
    assert evaluate_features(net, empty, empty, np.zeros(0)).shape == (0,)
