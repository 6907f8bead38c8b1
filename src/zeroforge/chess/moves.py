"""Stockfish's 16-bit move encodings and its chess conventions, between python-chess moves.

Stockfish (and nnue-pytorch) encode castling as the king taking its own rook (e1h1, e1a1);
python-chess and UCI use the king's destination (e1g1, e1c1). En passant is a pawn capture onto
the empty square behind the double-pushed pawn. Squares are 0 = a1 .. 63 = h8 everywhere.

Two 16-bit layouts, most significant bits first:

    .bin (nodchip's Stockfish `Move`, types.h)   flag:2 | promotion:2 | from:6 | to:6
        flag: 0 normal, 1 promotion, 2 en passant, 3 castling;
        promotion: piece - knight (0 knight .. 3 queen), 0 unless flag is 1
    .binpack (nnue-pytorch `CompressedMove`)      type:2 | from:6 | to:6 | promotion:2
        type: 0 normal, 1 promotion, 2 castling, 3 en passant
"""

from __future__ import annotations

import chess

SQUARE_MASK = 0x3F
# .bin move flags (Stockfish types.h MoveType >> 14)
SF_NORMAL, SF_PROMOTION, SF_EN_PASSANT, SF_CASTLING = 0, 1, 2, 3
# .binpack move types (nnue-pytorch chess::MoveType)
BP_NORMAL, BP_PROMOTION, BP_CASTLE, BP_EN_PASSANT = 0, 1, 2, 3
PROMOTION_PIECES = (chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN)  # index 0..3


def castling_rook_square(board: chess.Board, move: chess.Move) -> int:
    """The rook square of a castling move given as king to g/c file (e1g1 -> h1)."""
    rank = chess.square_rank(move.from_square)
    kingside = chess.square_file(move.to_square) > chess.square_file(move.from_square)
    return chess.square(7 if kingside else 0, rank)


def king_destination(king_square: int, rook_square: int) -> int:
    """Where the king lands for a king-takes-rook castling move (e1h1 -> g1)."""
    rank = chess.square_rank(king_square)
    return chess.square(6 if rook_square > king_square else 2, rank)


def kind_of(board: chess.Board, move: chess.Move) -> tuple[int, int]:
    """(kind, Stockfish's `to` square) of a legal move; kind is the .bin flag: 0 normal,
    1 promotion, 2 en passant, 3 castling (whose `to` is the rook's square)."""
    if move.promotion:
        return SF_PROMOTION, move.to_square
    if board.is_castling(move):
        return SF_CASTLING, castling_rook_square(board, move)
    if board.is_en_passant(move):
        return SF_EN_PASSANT, move.to_square
    return SF_NORMAL, move.to_square


def encode_sf_move(board: chess.Board, move: chess.Move) -> int:
    """The .bin move code of a legal `move` in `board`."""
    flag, to = kind_of(board, move)
    promotion = PROMOTION_PIECES.index(move.promotion) if move.promotion else 0
    return (flag << 14) | (promotion << 12) | (move.from_square << 6) | to


def decode_sf_move(code: int) -> chess.Move:
    """A .bin move code as a python-chess move (castling as king to g/c); not yet checked
    against a position. Raises ValueError for a code no legal move can have."""
    flag, promotion = code >> 14, (code >> 12) & 3
    origin, to = (code >> 6) & SQUARE_MASK, code & SQUARE_MASK
    if origin == to:
        raise ValueError(f"move code {code:#06x} is not a move (from == to)")
    if flag == SF_PROMOTION:
        return chess.Move(origin, to, PROMOTION_PIECES[promotion])
    if promotion:
        raise ValueError(f"move code {code:#06x} has promotion bits without the promotion flag")
    if flag == SF_CASTLING:
        return chess.Move(origin, _castling_king_destination(code, origin, to))
    return chess.Move(origin, to)


def _castling_king_destination(code: int, king: int, rook: int) -> int:
    """king_destination of a castling code, whose rook square must be a corner of the king's
    rank (anything else is corrupt data, even if it would map to a legal castling)."""
    if chess.square_rank(rook) != chess.square_rank(king) or chess.square_file(rook) not in (0, 7):
        raise ValueError(
            f"move code {code:#06x}: castling to {chess.square_name(rook)}, no corner of the "
            "king's rank"
        )
    return king_destination(king, rook)


_SF_TO_BP = {
    SF_NORMAL: BP_NORMAL,
    SF_PROMOTION: BP_PROMOTION,
    SF_EN_PASSANT: BP_EN_PASSANT,
    SF_CASTLING: BP_CASTLE,
}
_BP_TO_SF = {v: k for k, v in _SF_TO_BP.items()}


def encode_compressed_move(board: chess.Board, move: chess.Move) -> int:
    """The .binpack stem move code (nnue-pytorch CompressedMove) of a legal `move`."""
    flag, to = kind_of(board, move)
    promotion = PROMOTION_PIECES.index(move.promotion) if move.promotion else 0
    return (_SF_TO_BP[flag] << 14) | (move.from_square << 8) | (to << 2) | promotion


def decode_compressed_move(code: int) -> tuple[chess.Move, int]:
    """A .binpack stem move code -> (python-chess move, .bin flag of its kind)."""
    kind, promotion = code >> 14, code & 3
    origin, to = (code >> 8) & SQUARE_MASK, (code >> 2) & SQUARE_MASK
    if origin == to:
        raise ValueError(f"move code {code:#06x} is not a move (from == to)")
    flag = _BP_TO_SF[kind]
    if flag == SF_PROMOTION:
        return chess.Move(origin, to, PROMOTION_PIECES[promotion]), flag
    if promotion:
        raise ValueError(f"move code {code:#06x} has promotion bits but is no promotion")
    if flag == SF_CASTLING:
        return chess.Move(origin, _castling_king_destination(code, origin, to)), flag
    return chess.Move(origin, to), flag


def check_kind(board: chess.Board, move: chess.Move, flag: int) -> None:
    """The encoded kind must be the move's real kind (a castling flag on a plain king move,
    or an en passant flag on a normal capture, is corrupt data even if the move is legal)."""
    if kind_of(board, move)[0] != flag:
        raise ValueError(f"move {move.uci()} is encoded with the wrong kind ({flag})")


def legal_en_passant(board: chess.Board) -> int | None:
    """The en passant square if a legal capture there exists (nnue-pytorch's convention)."""
    ep = pseudo_legal_en_passant(board)
    return ep if ep is not None and board.has_legal_en_passant() else None


def pseudo_legal_en_passant(board: chess.Board) -> int | None:
    """The en passant square if a pawn attacks it and the pawn that just pushed two squares
    stands in front of it (Stockfish's `ep_square()` convention and its packed-position
    reader; python-chess alone does not look for the pushed pawn)."""
    ep = board.ep_square
    if ep is None or chess.square_rank(ep) != (5 if board.turn == chess.WHITE else 2):
        return None
    pushed = ep - 8 if board.turn == chess.WHITE else ep + 8
    theirs = board.pawns & board.occupied_co[not board.turn]
    if not theirs & chess.BB_SQUARES[pushed] or board.occupied & chess.BB_SQUARES[ep]:
        return None
    return ep if board.has_pseudo_legal_en_passant() else None
