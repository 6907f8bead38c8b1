import chess
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.chess.games import SPECIAL_FENS
from zeroforge.chess.moves import (
    decode_compressed_move,
    decode_sf_move,
    encode_compressed_move,
    encode_sf_move,
)
from zeroforge.formats.binpack_codec import BitReader, Chain, decode_ply, encode_ply


def _positions(data, start: str, plies: int) -> chess.Board:
    board = chess.Board(start)
    for _ in range(plies):
        moves = list(board.legal_moves)
        if not moves:
            break
        board.push(moves[data.draw(st.integers(0, len(moves) - 1))])
    return board


def test_stockfish_conventions_by_hand():
    board = chess.Board("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1")
    # castling is the king taking its rook; flag 3 << 14 in .bin, type 2 << 14 in .binpack
    assert encode_sf_move(board, chess.Move.from_uci("e1g1")) == (3 << 14) | (4 << 6) | 7
    assert encode_sf_move(board, chess.Move.from_uci("e1c1")) == (3 << 14) | (4 << 6) | 0
    assert encode_compressed_move(board, chess.Move.from_uci("e1g1")) == (2 << 14) | (4 << 8) | (
        7 << 2
    )
    promo = chess.Board("8/P5k1/8/8/8/8/6K1/8 w - - 0 1")
    a8q = chess.Move.from_uci("a7a8q")
    assert encode_sf_move(promo, a8q) == (1 << 14) | (3 << 12) | (48 << 6) | 56
    assert encode_compressed_move(promo, a8q) == (1 << 14) | (48 << 8) | (56 << 2) | 3
    ep = chess.Board("rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3")
    exf6 = chess.Move.from_uci("e5f6")
    assert encode_sf_move(ep, exf6) == (2 << 14) | (36 << 6) | 45
    assert encode_compressed_move(ep, exf6) == (3 << 14) | (36 << 8) | (45 << 2)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from(SPECIAL_FENS), st.integers(0, 60))
def test_every_legal_move_survives_each_encoding(data, start, plies):
    board = _positions(data, start, plies)
    for move in board.legal_moves:
        assert decode_sf_move(encode_sf_move(board, move)) == move
        assert decode_compressed_move(encode_compressed_move(board, move))[0] == move
        chain = Chain.__new__(Chain)
        chain.plies, chain.value, chain.nbits, chain.last_score, chain.stem = 0, 0, 0, 0, b""
        chain.add(encode_ply(board, move), 0)
        bits = BitReader(chain.bytes()[2:], 0)  # skip the (empty) stem's ply count
        assert decode_ply(board, bits) == move
