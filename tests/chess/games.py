"""Random legal games as training records, for the chess format tests (hypothesis or seeded)."""

from __future__ import annotations

import random

import chess

from zeroforge.chess.records import VALUE_NONE, TrainingRecord, record_from_board

# Starting points that reach the rare cases: promotions (with capture), en passant (legal and
# pinned), castling both ways with rights partly lost, a bare-kings ending.
SPECIAL_FENS = [
    chess.STARTING_FEN,
    "r3k2r/pppq1ppp/2n2n2/3pp3/3PP3/2N2N2/PPPQ1PPP/R3K2R w KQkq - 4 9",
    "r3k2r/8/8/8/8/8/8/R3K2R b Kq - 0 30",
    "8/2P3k1/8/8/8/8/1p4K1/8 w - - 0 60",
    "1n2k3/P1P5/8/8/8/8/5p1p/K5N1 b - - 0 70",
    "8/8/8/KPp4r/8/8/8/6k1 w - c6 0 50",  # en passant pseudo-legal only (pinned along rank)
    "rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",  # legal en passant
    "8/8/4k3/8/8/3K4/8/8 w - - 40 120",
]


def play(
    rng: random.Random, fen: str = chess.STARTING_FEN, plies: int = 80, ply: int | None = None
) -> list[TrainingRecord]:
    """A game of random legal moves from `fen` with random scores and a random result."""
    board = chess.Board(fen)
    outcome = rng.choice((-1, 0, 1))  # for white
    records = []
    start = board.ply() if ply is None else ply
    while len(records) < plies and not board.is_game_over(claim_draw=False):
        move = rng.choice(list(board.legal_moves))
        score = rng.choice((VALUE_NONE, rng.randint(-32002, 32002), rng.randint(-300, 300)))
        result = outcome if board.turn == chess.WHITE else -outcome
        records.append(record_from_board(board, move, score, result, start + len(records)))
        board.push(move)
    return records


def games(seed: int, count: int, plies: int = 80) -> list[TrainingRecord]:
    rng = random.Random(seed)
    out: list[TrainingRecord] = []
    for i in range(count):
        out += play(rng, SPECIAL_FENS[i % len(SPECIAL_FENS)], rng.randint(1, plies))
    return out
