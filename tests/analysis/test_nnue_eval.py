"""The NNUE forward pass against Stockfish 15.1's own `eval` trace, bucket by bucket."""

from __future__ import annotations

import random
import re

import chess
import pytest

from zeroforge.analysis.nnue_eval import (
    NORMALIZE_TO_PAWN_VALUE,
    evaluate,
    evaluate_float,
    layer_stack_bucket,
)
from zeroforge.formats.nnue import read_nnue

from .stockfish_net import run_stockfish

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
ROW = re.compile(r"^\|\s+(\d)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|", re.M)
NNUE_LINE = re.compile(r"^NNUE evaluation\s+(\S+) \(white side\)", re.M)


def random_positions(count: int, seed: int = 9) -> list[str]:
    """Positions from seeded random games: many piece counts, both sides to move, no check."""
    rng = random.Random(seed)
    fens: list[str] = []
    while len(fens) < count:
        board = chess.Board()
        for _ in range(rng.randrange(10, 160)):
            moves = list(board.legal_moves)
            captures = [m for m in moves if board.is_capture(m)]
            if not moves:
                break
            board.push(rng.choice(captures if captures and rng.random() < 0.7 else moves))
        if not board.is_game_over() and not board.is_check():
            fens.append(board.fen())
    return fens


def cell(value: int) -> str:
    """Stockfish's format_cp_aligned_dot: sign, then |v| in pawns as %6.2f."""
    sign = "-" if value < 0 else "+" if value > 0 else " "
    return f"{sign}{abs(value) / NORMALIZE_TO_PAWN_VALUE:6.2f}"


@pytest.fixture(scope="module")
def engine_traces(sf15_net_path):
    fens = FIXED_FENS + random_positions(16)
    commands = []
    for fen in fens:
        commands += [f"position fen {fen}", "eval"]
    out = run_stockfish(commands)
    blocks = out.split("NNUE network contributions")[1:]
    assert len(blocks) == len(fens), out[-2000:]
    return read_nnue(sf15_net_path), list(zip(fens, blocks, strict=True))


def test_positions_cover_buckets_and_sides():
    boards = [chess.Board(f) for f in FIXED_FENS + random_positions(16)]
    assert {b.turn for b in boards} == {chess.WHITE, chess.BLACK}
    assert len({layer_stack_bucket(b) for b in boards}) >= 5


def test_every_bucket_matches_stockfish_trace(engine_traces):
    net, traces = engine_traces
    for fen, block in traces:
        ours = evaluate(net, chess.Board(fen))
        rows = ROW.findall(block)
        assert len(rows) == 8, block
        theirs = [(re.sub(r"\s+", " ", p), re.sub(r"\s+", " ", q)) for _, p, q in rows]
        mine = [
            (re.sub(r"\s+", " ", cell(p)), re.sub(r"\s+", " ", cell(q)))
            for p, q in zip(ours.psqt, ours.positional, strict=True)
        ]
        assert mine == theirs, fen
        assert f"{ours.bucket}         |" in block.split("<-- this bucket is used")[0][-60:]


def test_nnue_evaluation_line_matches(engine_traces):
    net, traces = engine_traces
    for fen, block in traces:
        board = chess.Board(fen)
        value = evaluate(net, board).value
        white = value if board.turn == chess.WHITE else -value
        printed = NNUE_LINE.search(block).group(1)
        assert f"{white / NORMALIZE_TO_PAWN_VALUE:+.2f}" == printed, fen
        # the dequantised float network (no integer floors) stays within a few percent
        assert abs(evaluate_float(net, board) - value) <= 12 + 0.05 * abs(value), fen
