"""The training record shared by Stockfish's data formats (.plain, .bin, .binpack), its
validation, and the error every chess data reader raises.

A record is one position with the move played (or searched) there, the search score and the
game result, both from the side to move, as nnue-pytorch's `TrainingDataEntry`. Scores are
Stockfish internal units (int16); VALUE_NONE (32002) means "no score" (Stockfish types.h).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import chess

VALUE_NONE = 32002  # Stockfish types.h: "no score"
VALUE_MATE = 32000  # Stockfish types.h: mate in 0 plies; mate in n plies is VALUE_MATE - n
# Stockfish 15.1 prints pawns of this many internal units (UCI::NormalizeToPawnValue, uci.h);
# checked against its `eval` output in tests/analysis/test_nnue_eval.py
NORMALIZE_TO_PAWN_VALUE = 361
SCORE_LIMIT = VALUE_NONE  # |score| above this is not a Stockfish value (mates are <= 32000)
RESULTS = (-1, 0, 1)  # loss, draw, win for the side to move
MAX_PLY = 0xFFFF  # uint16 in .bin; .binpack keeps 14 bits (formats.binpack.MAX_PLY)
# A position that is not a chess position at all (python-chess status bits); other statuses
# (e.g. "impossible check" from random openings) are accepted, as Stockfish accepts them.
BAD_STATUS = (
    chess.STATUS_NO_WHITE_KING
    | chess.STATUS_NO_BLACK_KING
    | chess.STATUS_TOO_MANY_KINGS
    | chess.STATUS_PAWNS_ON_BACKRANK
    | chess.STATUS_OPPOSITE_CHECK
    | chess.STATUS_EMPTY
)


class ChessDataError(ValueError):
    """Bad chess training data: names the file, where in it (record, chunk, line) and why."""

    def __init__(self, path: str | os.PathLike, where: str, reason: str):
        self.path, self.where, self.reason = str(path), where, reason
        super().__init__(f"{self.path}: {where}: {reason}")

    def __reduce__(self):  # picklable, e.g. out of a DataLoader worker
        return ChessDataError, (self.path, self.where, self.reason)


MAX_ERRORS = 5  # error messages a ReadStats keeps


@dataclass
class ReadStats:
    """What a streaming reader saw: records yielded, bad records dropped (skip_bad), errors."""

    records: int = 0
    bad_records: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS messages

    def bad(self, error: ChessDataError, skip_bad: bool, count: int = 1) -> None:
        """Count a bad record (or `count` of them) when skipping, else raise `error`."""
        if not skip_bad:
            raise error
        self.bad_records += count
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(str(error))


@dataclass(frozen=True)
class TrainingRecord:
    """One training position. `fen` is a full FEN (its en passant field: as the source wrote
    it; formats.sfbin keeps Stockfish's pseudo-legal squares, formats.binpack legal ones);
    `move` is UCI with castling as king to g/c (e1g1), not Stockfish's king-takes-rook."""

    fen: str
    move: str
    score: int  # side to move, Stockfish units, VALUE_NONE = no score
    ply: int  # half-moves since the game's start
    result: int  # 1 / 0 / -1: the side to move won / drew / lost

    def board(self) -> chess.Board:
        return chess.Board(self.fen)

    def checked(self) -> tuple[chess.Board, chess.Move]:
        """The board and move, after checking every field; ValueError says what is wrong."""
        return check_record(self)


def check_values(score: int, ply: int, result: int) -> None:
    if not -SCORE_LIMIT <= score <= SCORE_LIMIT:
        raise ValueError(f"score {score} outside [-{SCORE_LIMIT}, {SCORE_LIMIT}]")
    if not 0 <= ply <= MAX_PLY:
        raise ValueError(f"ply {ply} outside [0, {MAX_PLY}]")
    if result not in RESULTS:
        raise ValueError(f"result {result} is not 1, 0 or -1")


def check_board(board: chess.Board) -> None:
    status = board.status() & BAD_STATUS
    if status:
        names = [s.name.lower() for s in chess.Status if s and s & status and s.name]
        raise ValueError(f"not a legal chess position ({', '.join(names)}): {board.fen()}")


def check_move(board: chess.Board, move: chess.Move) -> None:
    if not board.is_legal(move):
        raise ValueError(f"move {move.uci()} is not legal in {board.fen()}")


def check_record(record: TrainingRecord) -> tuple[chess.Board, chess.Move]:
    check_values(record.score, record.ply, record.result)
    try:
        board = chess.Board(record.fen)
    except ValueError as error:
        raise ValueError(f"bad FEN {record.fen!r} ({error})") from None
    check_board(board)
    try:
        move = chess.Move.from_uci(record.move)
    except ValueError:
        raise ValueError(f"bad UCI move {record.move!r}") from None
    check_move(board, move)
    return board, move


def fullmove_from_ply(ply: int, black_to_move: bool) -> int:
    """FEN's move number for a game ply, as Stockfish's packer computes it (integer division
    truncating towards zero: ply 0 with black to move is move 1)."""
    return 1 + max(ply - int(black_to_move), 0) // 2


def record_from_board(
    board: chess.Board, move: chess.Move, score: int, result: int, ply: int | None = None
) -> TrainingRecord:
    """A record for a position of a game played on `board` (before `move`). The FEN keeps the
    en passant square whenever a pawn could capture there (Stockfish's convention), so .bin
    bytes match Stockfish's packer; `ply` defaults to the board's own."""
    if ply is None:
        ply = board.ply()
    return TrainingRecord(board.fen(en_passant="xfen"), move.uci(), score, ply, result)


_EMPTY_RUNS = [("1" * n, str(n)) for n in range(8, 1, -1)]
_CASTLING_FLAGS = ((chess.BB_H1, "K"), (chess.BB_A1, "Q"), (chess.BB_H8, "k"), (chess.BB_A8, "q"))
_PIECE_SETS = (
    ("pawns", "P", "p"),
    ("knights", "N", "n"),
    ("bishops", "B", "b"),
    ("rooks", "R", "r"),
    ("queens", "Q", "q"),
    ("kings", "K", "k"),
)


def fast_fen(board: chess.Board, ep_square: int | None) -> str:
    """`board.fen()` for standard chess, 3-4x faster (readers make one per record), with the
    en passant field given by the caller (each format has its own convention)."""
    squares = ["1"] * 64
    white = board.occupied_co[chess.WHITE]
    for name, white_symbol, black_symbol in _PIECE_SETS:
        mask = getattr(board, name)
        while mask:
            low = mask & -mask
            symbol = white_symbol if low & white else black_symbol
            squares[(low.bit_length() - 1) ^ 56] = symbol  # FEN lists rank 8 first
            mask ^= low
    placement = "/".join(["".join(squares[i : i + 8]) for i in range(0, 64, 8)])
    for run, count in _EMPTY_RUNS:
        if run in placement:
            placement = placement.replace(run, count)
    rights = board.clean_castling_rights()
    castling = "".join(flag for mask, flag in _CASTLING_FLAGS if rights & mask) or "-"
    ep = chess.SQUARE_NAMES[ep_square] if ep_square is not None else "-"
    side = "w" if board.turn == chess.WHITE else "b"
    return f"{placement} {side} {castling} {ep} {board.halfmove_clock} {board.fullmove_number}"
