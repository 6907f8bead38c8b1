"""HalfKAv2_hm feature indices on hand-checked positions (Stockfish half_ka_v2_hm.h)."""

from __future__ import annotations

import chess

from zeroforge.chess.features import (
    KING_BUCKETS,
    MAX_ACTIVE,
    NUM_FEATURES,
    PIECE_CODES,
    PLANE_SIZE,
    feature,
    feature_tables,
    halfka_features,
    layer_stack_bucket,
)


def test_constants():
    assert NUM_FEATURES == 22528
    assert sorted(KING_BUCKETS[KING_BUCKETS >= 0]) == list(range(32))
    assert KING_BUCKETS[4] == 31 and KING_BUCKETS[63] == 0  # e1, h8


def test_two_kings_and_a_pawn_by_hand():
    board = chess.Board("8/8/8/8/8/8/4P3/2K3k1 w - - 0 1")  # Kc1, Pe2, kg1
    # white: king on c1 (file c) -> mirror ^7: c1 -> f1 (5), bucket 30; e2 (12) -> d2 (11)
    bucket = 30
    white = [11 + 64 * 0 + PLANE_SIZE * bucket, (6 ^ 7) + 64 * 10 + PLANE_SIZE * bucket]
    white.append(5 + 64 * 10 + PLANE_SIZE * bucket)
    assert list(halfka_features(board, chess.WHITE)) == sorted(white)
    # black: flip ^56, king g1 -> g8 (62), no mirror, bucket 1; e2 -> e7 (52), their pawn: plane 1
    bucket = KING_BUCKETS[62]
    assert bucket == 1
    black = [52 + 64 + PLANE_SIZE, (2 ^ 56) + 640 + PLANE_SIZE, 62 + 640 + PLANE_SIZE]
    assert list(halfka_features(board, chess.BLACK)) == sorted(black)
    assert layer_stack_bucket(board) == 0


def test_start_position_has_32_features_per_side():
    board = chess.Board()
    for side in (chess.WHITE, chess.BLACK):
        features = halfka_features(board, side)
        assert len(features) == MAX_ACTIVE and len(set(features)) == MAX_ACTIVE
        assert features.min() >= 0 and features.max() < NUM_FEATURES
    assert layer_stack_bucket(board) == 7


def test_the_compiled_decoders_tables_equal_the_definition():
    """feature_tables() (what chess/csrc loads) gives feature() for every perspective, king
    square, piece and square."""
    king_base, king_mirror, piece_square = feature_tables()
    for p, perspective in enumerate((chess.WHITE, chess.BLACK)):
        for king in range(64):
            row = piece_square[p, king_mirror[p, king]]
            for code in range(PIECE_CODES):
                for square in range(64):
                    expected = feature(perspective, king, code, square)
                    assert king_base[p, king] + row[code, square] == expected
