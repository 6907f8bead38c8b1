"""HalfKAv2_hm, the input features of Stockfish 15.1's NNUE (SFNNv5): the one home of their indices.

Per perspective (the side whose accumulator it is): the board is flipped vertically for black
(square ^ 56) and mirrored horizontally when that side's king stands on files a-d (square ^ 7), so
its king always lands on files e-h. The oriented king square picks one of 32 king buckets; each
bucket holds 11 planes of 64 squares: own/their pawn, knight, bishop, rook, queen (planes 0-9,
own before theirs) and one plane for both kings (plane 10). Index = oriented square + 64 * plane
+ 704 * bucket, 22,528 in all (Stockfish src/nnue/features/half_ka_v2_hm.h). A position has at
most 32 active features per perspective (one per piece). The layer stack a position uses is
(pieces - 1) // 4, one of 8.

`feature` is the definition; the compiled decoder (chess/csrc) knows none of it: it loads the
tables of `feature_tables()` when data/chess_decoder.py imports it. The .nnue header's feature
hash and the network's input count (chess/nnue_arch.py) come from here too.
"""

from __future__ import annotations

import chess
import numpy as np

PLANE_SIZE = 64 * 11  # 11 piece planes of 64 squares per king bucket
KING_PLANE = 10  # both kings share one plane
NUM_PLANES = PLANE_SIZE // 64
NUM_BUCKETS = 32
NUM_FEATURES = NUM_BUCKETS * PLANE_SIZE  # 22,528
FEATURE_HASH = 0x7F234CB8  # Stockfish half_ka_v2_hm.h HashValue (in the .nnue header)
MAX_ACTIVE = 32  # one feature per piece
NUM_LAYER_STACKS = 8
# King bucket of the oriented king square (files e-h after mirroring), Stockfish half_ka_v2_hm.h
_BUCKET_ROWS = [[-1] * 4 + [4 * (7 - rank) + 3 - f for f in range(4)] for rank in range(8)]
KING_BUCKETS = np.array(_BUCKET_ROWS).reshape(64)
# A piece code, as in .binpack stems and the compiled decoder: 2 * type + colour (type pawn 0 ..
# king 5, colour white 0 / black 1)
PIECE_CODES = 12


def orientation(perspective: chess.Color, king: int) -> int:
    """What a square is XORed with seen from `perspective` with its king on `king`: flipped
    vertically for black (^ 56), mirrored (^ 7) when the king stands on files a-d."""
    return (0 if perspective == chess.WHITE else 56) ^ (7 if chess.square_file(king) < 4 else 0)


def plane(perspective: chess.Color, code: int) -> int:
    """The plane of a piece (code as PIECE_CODES) seen from `perspective`."""
    piece_type, black = code // 2, code % 2
    if piece_type == chess.KING - 1:
        return KING_PLANE
    return 2 * piece_type + (black != (perspective == chess.BLACK))


def feature(perspective: chess.Color, king: int, code: int, square: int) -> int:
    """The feature index of a piece on `square` seen from `perspective`, its king on `king`."""
    orient = orientation(perspective, king)
    bucket = int(KING_BUCKETS[king ^ orient])
    return (square ^ orient) + 64 * plane(perspective, code) + PLANE_SIZE * bucket


def feature_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feature set as the compiled decoder's tables (chess/csrc/board.h FeatureTables):
    feature(p, king, code, square) = king_base[p, king] + piece_square[p, king_mirror[p, king],
    code, square], with p 0 = white, 1 = black (tests check it against `feature`)."""
    squares, kings = np.arange(64), np.arange(64)
    king_base = np.zeros((2, 64), np.int16)
    king_mirror = (kings % 8 < 4).astype(np.uint8)[None].repeat(2, axis=0)
    piece_square = np.zeros((2, 2, PIECE_CODES, 64), np.int16)
    for p, perspective in enumerate((chess.WHITE, chess.BLACK)):
        flip = 0 if perspective == chess.WHITE else 56
        king_base[p] = PLANE_SIZE * KING_BUCKETS[kings ^ flip ^ (7 * king_mirror[p])]
        for mirror in (0, 1):
            for code in range(PIECE_CODES):
                piece_square[p, mirror, code] = (squares ^ flip ^ (7 * mirror)) + 64 * plane(
                    perspective, code
                )
    return king_base, king_mirror, piece_square


def halfka_features(board: chess.Board, perspective: chess.Color) -> np.ndarray:
    """Active HalfKAv2_hm feature indices of `board` seen from `perspective`, sorted."""
    king = board.king(perspective)
    out = [
        feature(perspective, king, 2 * (piece.piece_type - 1) + (not piece.color), square)
        for square, piece in board.piece_map().items()
    ]
    return np.array(sorted(out), dtype=np.int64)


def layer_stack_bucket(board: chess.Board) -> int:
    """Which of the 8 layer stacks evaluates `board`: (pieces - 1) // 4."""
    return (chess.popcount(board.occupied) - 1) // 4
