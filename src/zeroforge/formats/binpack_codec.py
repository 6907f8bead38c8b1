"""The bit-level codec of Stockfish's `.binpack` chains (nnue-pytorch
lib/nnue_training_data_formats.h, namespace binpack): a chain's stem and its movetext, both
directions. The chunks that hold chains, and the file, are formats/binpack.py.

    chain     stem (32 bytes) | uint16 big-endian N | movetext: N more plies, bit-packed
    stem      bytes  0-7   occupied squares, uint64 big-endian (bit i = square i, a1 = 0)
              bytes  8-23  one nibble per occupied square in ascending square order, low
                           nibble first: 0-11 = piece (2 * type + colour; type pawn 0 ..
                           king 5, colour white 0 / black 1); 12 = pawn that just made a
                           double push, en passant possible behind it (legal captures only);
                           13 / 14 = white / black rook with its castling right; 15 = black
                           king with black to move (else white moves)
              bytes 24-25  move, big-endian, chess.moves' compressed encoding (castling as
                           king takes rook)
              bytes 26-27  score, zig-zag (0, -1, 1, -2, 2 -> 0, 1, 2, 3, 4), big-endian
              bytes 28-29  ply (low 14 bits) | zig-zag result << 14, big-endian
              bytes 30-31  halfmove clock (rule 50), big-endian
    movetext  per ply after the stem's move, bits written most significant first:
              piece: index of the moving piece among the side to move's pieces in
                     ascending square order, in used_bits(pieces) bits
              move:  index of the destination among that piece's candidate squares in
                     ascending order, in used_bits(candidates) bits. Candidates: pawn =
                     captures (en passant square included) + single and double pushes,
                     x4 on the 7th rank (index * 4 + knight/bishop/rook/queen); king =
                     its attacks not on own pieces, then one slot per castling right it
                     still has (queen side first); other pieces = attacks not on own pieces
              score: zig-zag(score - (-previous score)) as int16, in 4-bit blocks, lowest
                     first, each block preceded by 1 bit "more blocks follow"
              used_bits(n) = bit length of n - 1 (0 bits when n <= 1). The chain ends
              byte-aligned (zero bits fill the last byte).
    Each ply of a chain is the previous position after its move, ply + 1, result negated.

The move number is not stored: the reader gives 1 + ply // 2 (as Stockfish's packer counts).
Every record is validated (legal moves, a real position, value ranges); a stem's castling
rights need their king at home and an en passant mark a legal capture, as in the compiled
decoder (tests/data/test_decoders_agree.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import chess

from zeroforge.chess.moves import (
    PROMOTION_PIECES,
    castling_rook_square,
    check_kind,
    decode_compressed_move,
    encode_compressed_move,
    king_destination,
    legal_en_passant,
)
from zeroforge.chess.records import (
    TrainingRecord,
    check_board,
    check_move,
    check_values,
    fast_fen,
    fullmove_from_ply,
)

STEM_BYTES = 32
STEM_TAIL = struct.Struct(">HHHH")  # move, score, ply|result, rule50
PLIES = struct.Struct(">H")
MAX_PLY = (1 << 14) - 1
MAX_CHAIN_PLIES = 0xFFFF
SCORE_BLOCK_BITS = 4
MAX_PIECES = 32  # 16 bytes of nibbles
# stem nibbles beyond the 12 plain pieces
EP_PAWN, WHITE_CASTLING_ROOK, BLACK_CASTLING_ROOK, BLACK_KING_TO_MOVE = 12, 13, 14, 15
PAWN_START_RANK = {chess.WHITE: 1, chess.BLACK: 6}
PROMOTION_FROM_RANK = {chess.WHITE: 6, chess.BLACK: 1}
CASTLING_ROOKS = {chess.A1, chess.H1, chess.A8, chess.H8}
PIECE_SETS = ("pawns", "knights", "bishops", "rooks", "queens", "kings")  # chess.Board masks


def zigzag(value: int) -> int:
    """int16 -> uint16: 0, -1, 1, -2, 2 -> 0, 1, 2, 3, 4 (wrapping as int16 arithmetic)."""
    value &= 0xFFFF
    if value & 0x8000:
        value ^= 0x7FFF
    return ((value << 1) | (value >> 15)) & 0xFFFF


def unzigzag(value: int) -> int:
    value = ((value << 15) | (value >> 1)) & 0xFFFF
    if value & 0x8000:
        value ^= 0x7FFF
    return value - 0x10000 if value & 0x8000 else value


def to_int16(value: int) -> int:
    value &= 0xFFFF
    return value - 0x10000 if value & 0x8000 else value


def used_bits(count: int) -> int:
    return (count - 1).bit_length() if count > 1 else 0


def nth_set_square(mask: int, n: int) -> int:
    for _ in range(n):
        mask &= mask - 1
    return (mask & -mask).bit_length() - 1


# ---------------------------------------------------------------------------------------
# Stem positions


def _nibble(board: chess.Board, square: int, piece: chess.Piece, ep: int | None) -> int:
    if piece.piece_type == chess.PAWN and ep is not None and square == ep ^ 8:
        return EP_PAWN  # the pawn in front of the en passant square (ep ^ 8: one rank on)
    if piece.piece_type == chess.ROOK and board.castling_rights & chess.BB_SQUARES[square]:
        return WHITE_CASTLING_ROOK if piece.color == chess.WHITE else BLACK_CASTLING_ROOK
    if piece.piece_type == chess.KING and piece.color == chess.BLACK:
        return BLACK_KING_TO_MOVE if board.turn == chess.BLACK else 11
    return 2 * (piece.piece_type - 1) + int(piece.color == chess.BLACK)


def compress_position(board: chess.Board) -> bytes:
    """The 24-byte stem position (castling rights taken from python-chess's cleaned ones)."""
    board = board.copy(stack=False)
    board.castling_rights = board.clean_castling_rights()
    ep = legal_en_passant(board)
    occupied = board.occupied
    if occupied.bit_count() > MAX_PIECES:
        raise ValueError(f"{occupied.bit_count()} pieces > {MAX_PIECES}: {board.fen()}")
    nibbles = [_nibble(board, sq, board.piece_at(sq), ep) for sq in chess.scan_forward(occupied)]
    nibbles += [0] * (MAX_PIECES - len(nibbles))
    packed = bytes(nibbles[i] | (nibbles[i + 1] << 4) for i in range(0, len(nibbles), 2))
    return occupied.to_bytes(8, "big") + packed


def decompress_position(data: bytes) -> chess.Board:
    """The stem position of 24 bytes (no clocks); ValueError if the nibbles are impossible."""
    occupied = int.from_bytes(data[:8], "big")
    if occupied.bit_count() > MAX_PIECES:
        raise ValueError(f"{occupied.bit_count()} occupied squares > {MAX_PIECES}")
    board = chess.Board.empty()
    pieces, rights = {}, 0
    for i, square in enumerate(chess.scan_forward(occupied)):
        nibble = (data[8 + i // 2] >> (4 * (i % 2))) & 0xF
        rank = chess.square_rank(square)
        if nibble < EP_PAWN:
            pieces[square] = chess.Piece(nibble // 2 + 1, not nibble % 2)
        elif nibble == EP_PAWN:
            if rank not in (3, 4):
                raise ValueError(f"en passant pawn on {chess.square_name(square)}")
            color = chess.WHITE if rank == 3 else chess.BLACK
            pieces[square] = chess.Piece(chess.PAWN, color)
            board.ep_square = square - 8 if color == chess.WHITE else square + 8
        elif nibble in (WHITE_CASTLING_ROOK, BLACK_CASTLING_ROOK):
            color = chess.WHITE if nibble == WHITE_CASTLING_ROOK else chess.BLACK
            if square not in CASTLING_ROOKS or (rank == 0) != (color == chess.WHITE):
                raise ValueError(f"castling rook on {chess.square_name(square)}")
            pieces[square] = chess.Piece(chess.ROOK, color)
            rights |= chess.BB_SQUARES[square]
        else:
            pieces[square] = chess.Piece(chess.KING, chess.BLACK)
            board.turn = chess.BLACK
    board.set_piece_map(pieces)
    board.castling_rights = rights
    if board.clean_castling_rights() != rights:
        raise ValueError("castling rights without the king on its square")
    if board.ep_square is not None and legal_en_passant(board) is None:
        raise ValueError(f"en passant on {chess.square_name(board.ep_square)} is not possible")
    return board


def pack_stem(record: TrainingRecord, board: chess.Board, move: chess.Move) -> bytes:
    if record.ply > MAX_PLY:
        raise ValueError(f"ply {record.ply} > {MAX_PLY} does not fit a .binpack")
    if board.halfmove_clock > 0xFFFF:
        raise ValueError(f"halfmove clock {board.halfmove_clock} does not fit a .binpack")
    return compress_position(board) + STEM_TAIL.pack(
        encode_compressed_move(board, move),
        zigzag(record.score),
        record.ply | (zigzag(record.result) << 14),
        board.halfmove_clock,
    )


def unpack_stem(data: bytes) -> tuple[chess.Board, chess.Move, int, int, int]:
    """(board, move, score, ply, result) of a 32-byte stem, validated."""
    board = decompress_position(data)
    check_board(board)
    code, score, ply_result, rule50 = STEM_TAIL.unpack_from(data, 24)
    score, ply, result = unzigzag(score), ply_result & MAX_PLY, unzigzag(ply_result >> 14)
    check_values(score, ply, result)
    board.halfmove_clock = rule50
    board.fullmove_number = fullmove_from_ply(ply, board.turn == chess.BLACK)
    move, flag = decode_compressed_move(code)
    check_move(board, move)
    check_kind(board, move, flag)
    return board, move, score, ply, result


# ---------------------------------------------------------------------------------------
# Movetext: moves as indices among a piece's candidate squares, score deltas


def _our_castling(board: chess.Board) -> tuple[bool, bool]:
    """(queen side, king side) castling rights of the side to move."""
    rights = board.clean_castling_rights() & chess.BB_BACKRANKS
    back = chess.BB_RANK_1 if board.turn == chess.WHITE else chess.BB_RANK_8
    return bool(rights & back & chess.BB_FILE_A), bool(rights & back & chess.BB_FILE_H)


def _pawn_targets(board: chess.Board, origin: int) -> int:
    color = board.turn
    ep = legal_en_passant(board)
    targets = board.occupied_co[not color] | (chess.BB_SQUARES[ep] if ep is not None else 0)
    candidates = chess.BB_PAWN_ATTACKS[color][origin] & targets
    step = 8 if color == chess.WHITE else -8
    forward = origin + step
    if not board.occupied & chess.BB_SQUARES[forward]:
        candidates |= chess.BB_SQUARES[forward]
        if chess.square_rank(origin) == PAWN_START_RANK[color]:
            if not board.occupied & chess.BB_SQUARES[forward + step]:
                candidates |= chess.BB_SQUARES[forward + step]
    return candidates


def encode_ply(board: chess.Board, move: chess.Move) -> list[tuple[int, int]]:
    """(value, bit count) pairs of a legal move's piece index and move index."""
    ours = board.occupied_co[board.turn]
    origin = move.from_square
    below = chess.BB_SQUARES[origin] - 1
    fields = [((ours & below).bit_count(), used_bits(ours.bit_count()))]
    piece = board.piece_type_at(origin)
    if piece == chess.PAWN:
        candidates = _pawn_targets(board, origin)
        index = (candidates & (chess.BB_SQUARES[move.to_square] - 1)).bit_count()
        count = candidates.bit_count()
        if chess.square_rank(origin) == PROMOTION_FROM_RANK[board.turn]:
            index, count = 4 * index + PROMOTION_PIECES.index(move.promotion), 4 * count
    elif piece == chess.KING:
        attacks = chess.BB_KING_ATTACKS[origin] & ~ours
        queen_side, king_side = _our_castling(board)
        count = attacks.bit_count() + queen_side + king_side
        if board.is_castling(move):
            short = castling_rook_square(board, move) > origin
            index = attacks.bit_count() - 1 + queen_side + short
        else:
            index = (attacks & (chess.BB_SQUARES[move.to_square] - 1)).bit_count()
    else:
        attacks = board.attacks_mask(origin) & ~ours
        index = (attacks & (chess.BB_SQUARES[move.to_square] - 1)).bit_count()
        count = attacks.bit_count()
    fields.append((index, used_bits(count)))
    return fields


def encode_score(delta: int) -> list[tuple[int, int]]:
    """The variable-length blocks of a uint16 (zig-zagged score delta)."""
    mask, blocks = (1 << SCORE_BLOCK_BITS) - 1, []
    while True:
        more = int(delta > mask)
        blocks.append(((more << SCORE_BLOCK_BITS) | (delta & mask), SCORE_BLOCK_BITS + 1))
        delta >>= SCORE_BLOCK_BITS
        if not more:
            return blocks


class BitReader:
    """Reads values of up to 8 bits, most significant first, from `data` at a byte offset."""

    def __init__(self, data: bytes, offset: int):
        self.data, self.start, self.bit = data, offset, 8 * offset

    def take(self, count: int) -> int:
        if not count:
            return 0
        byte, shift = self.bit >> 3, self.bit & 7
        if (self.bit + count + 7) >> 3 > len(self.data):
            raise ValueError("movetext runs past the end of its chunk")
        window = int.from_bytes(self.data[byte : byte + 3].ljust(3, b"\0"), "big")
        self.bit += count
        return (window >> (24 - shift - count)) & ((1 << count) - 1)

    def end(self) -> int:
        """Byte offset after the bits read (chains end byte-aligned)."""
        return (self.bit + 7) >> 3


def decode_ply(board: chess.Board, bits: BitReader) -> chess.Move:
    """The next move of the movetext in `board` (pseudo-legal by construction; the caller
    checks legality)."""
    ours = board.occupied_co[board.turn]
    index = bits.take(used_bits(ours.bit_count()))
    if index >= ours.bit_count():
        raise ValueError(f"piece index {index} but the side to move has {ours.bit_count()}")
    origin = nth_set_square(ours, index)
    piece = board.piece_type_at(origin)
    if piece == chess.PAWN:
        candidates = _pawn_targets(board, origin)
        count = candidates.bit_count()
        promotes = chess.square_rank(origin) == PROMOTION_FROM_RANK[board.turn]
        index = bits.take(used_bits(4 * count if promotes else count))
        if promotes:
            index, promotion = divmod(index, 4)
            if index >= count:
                raise ValueError(f"move index {index} of a pawn with {count} moves")
            return chess.Move(
                origin, nth_set_square(candidates, index), PROMOTION_PIECES[promotion]
            )
        attacks = candidates
    elif piece == chess.KING:
        attacks = chess.BB_KING_ATTACKS[origin] & ~ours
        queen_side, king_side = _our_castling(board)
        size = attacks.bit_count()
        index = bits.take(used_bits(size + queen_side + king_side))
        if index >= size:
            extra = index - size
            long_castle = extra == 0 and queen_side
            if extra > int(queen_side) + int(king_side) - 1:
                raise ValueError(f"castling index {extra} without that castling right")
            rank = chess.square_rank(origin)
            rook = chess.square(0 if long_castle else 7, rank)
            return chess.Move(origin, king_destination(origin, rook))
    else:
        attacks = board.attacks_mask(origin) & ~ours
        index = bits.take(used_bits(attacks.bit_count()))
    count = attacks.bit_count()
    if index >= count:
        raise ValueError(f"move index {index} of a piece with {count} moves")
    return chess.Move(origin, nth_set_square(attacks, index))


def decode_score(bits: BitReader) -> int:
    value, shift = 0, 0
    while True:
        block = bits.take(SCORE_BLOCK_BITS + 1)  # "more" flag, then the block's 4 bits
        more = block >> SCORE_BLOCK_BITS
        value |= (block & ((1 << SCORE_BLOCK_BITS) - 1)) << shift
        shift += SCORE_BLOCK_BITS
        if not more:
            return value & 0xFFFF if shift <= 16 else _too_long()
        if shift >= 16:
            _too_long()


def _too_long() -> int:
    raise ValueError("score delta longer than 16 bits")


# ---------------------------------------------------------------------------------------
# Chains


def same_position(after: chess.Board, board: chess.Board) -> bool:
    """Does `board` continue `after` exactly (what the reader would rebuild)?"""
    return (
        after.occupied_co == board.occupied_co
        and all(getattr(after, kind) == getattr(board, kind) for kind in PIECE_SETS)
        and after.turn == board.turn
        and after.clean_castling_rights() == board.clean_castling_rights()
        and legal_en_passant(after) == legal_en_passant(board)
        and after.halfmove_clock == board.halfmove_clock
    )


class Chain:
    """A chain being written: its stem, then bits for each continuing ply."""

    def __init__(self, record: TrainingRecord, board: chess.Board, move: chess.Move):
        self.stem = pack_stem(record, board, move)
        self.plies, self.value, self.nbits = 0, 0, 0
        self.last_score = -record.score

    def add(self, fields: list[tuple[int, int]], score: int) -> None:
        delta = zigzag(score - self.last_score)
        for value, count in fields + encode_score(delta):
            self.value, self.nbits = (self.value << count) | value, self.nbits + count
        self.last_score = -score
        self.plies += 1

    def bytes(self) -> bytes:
        pad = -self.nbits % 8
        movetext = (self.value << pad).to_bytes((self.nbits + pad) // 8, "big")
        return self.stem + PLIES.pack(self.plies) + movetext


def decode_chain(payload: bytes, offset: int) -> Iterator[tuple[TrainingRecord, int]]:
    """Records of the chain at `offset` with, last, the offset after it; raises ValueError
    with the ply it failed at."""
    if offset + STEM_BYTES + PLIES.size > len(payload):
        raise ValueError(f"{len(payload) - offset} trailing bytes, too few for a chain")
    board, move, score, ply, result = unpack_stem(payload[offset : offset + STEM_BYTES])
    (plies,) = PLIES.unpack_from(payload, offset + STEM_BYTES)
    yield (
        TrainingRecord(fast_fen(board, legal_en_passant(board)), move.uci(), score, ply, result),
        -1,
    )
    bits = BitReader(payload, offset + STEM_BYTES + PLIES.size)
    for step in range(1, plies + 1):
        board.push(move)
        try:
            move = decode_ply(board, bits)
            check_move(board, move)
            score = to_int16(-score + unzigzag(decode_score(bits)))
            ply, result = ply + 1, -result
            check_values(score, ply, result)
        except ValueError as error:
            raise ValueError(f"ply {step} of {plies}: {error}") from None
        yield (
            TrainingRecord(
                fast_fen(board, legal_en_passant(board)), move.uci(), score, ply, result
            ),
            -1,
        )
    yield None, bits.end() if plies else offset + STEM_BYTES + PLIES.size
