"""HalfKAv2_hm, the input features of Stockfish 15.1's NNUE (SFNNv5): the one home of their indices.

Per perspective (the side whose accumulator it is): the board is flipped vertically for black
(square ^ 56) and mirrored horizontally when that side's king stands on files a-d (square ^ 7), so
its king always lands on files e-h. The oriented king square picks one of 32 king buckets; each
bucket holds 11 planes of 64 squares: own/their pawn, knight, bishop, rook, queen (planes 0-9,
own before theirs) and one plane for both kings (plane 10). Index = oriented square + 64 * plane
+ 704 * bucket, 22,528 in all (Stockfish src/nnue/features/half_ka_v2_hm.h). A position has at
most 32 active features per perspective (one per piece). The layer stack a position uses is
(pieces - 1) // 4, one of 8.
"""

from __future__ import annotations

import chess
import numpy as np

PLANE_SIZE = 64 * 11  # 11 piece planes of 64 squares per king bucket
KING_PLANE = 10  # both kings share one plane
NUM_BUCKETS = 32
NUM_FEATURES = NUM_BUCKETS * PLANE_SIZE  # 22,528
MAX_ACTIVE = 32  # one feature per piece
NUM_LAYER_STACKS = 8
# King bucket of the oriented king square (files e-h after mirroring), Stockfish half_ka_v2_hm.h
_BUCKET_ROWS = [[-1] * 4 + [4 * (7 - rank) + 3 - f for f in range(4)] for rank in range(8)]
KING_BUCKETS = np.array(_BUCKET_ROWS).reshape(64)


def halfka_features(board: chess.Board, perspective: chess.Color) -> np.ndarray:
    """Active HalfKAv2_hm feature indices of `board` seen from `perspective`, sorted."""
    king = board.king(perspective)
    flip = 0 if perspective == chess.WHITE else 56
    mirror = 7 if chess.square_file(king) < 4 else 0
    bucket = int(KING_BUCKETS[king ^ flip ^ mirror])
    out = []
    for square, piece in board.piece_map().items():
        plane = (
            KING_PLANE
            if piece.piece_type == chess.KING
            else ((piece.piece_type - 1) * 2 + (piece.color != perspective))
        )
        out.append((square ^ flip ^ mirror) + 64 * plane + PLANE_SIZE * bucket)
    return np.array(sorted(out), dtype=np.int64)


def layer_stack_bucket(board: chess.Board) -> int:
    """Which of the 8 layer stacks evaluates `board`: (pieces - 1) // 4."""
    return (chess.popcount(board.occupied) - 1) // 4
