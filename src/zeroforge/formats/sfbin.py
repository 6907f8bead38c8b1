"""Stockfish's `.bin` training data: nodchip's 40-byte PackedSfenValue records, read and write.

A file is a plain array of records, nothing before or between them (Stockfish tools branch
src/tools/packed_sfen.h, sfen_packer.cpp; nnue-pytorch lib/nnue_training_data_formats.h):

    bytes  0-31  PackedSfen: the position in a 256-bit stream, bits taken least significant
                 first (bit i = byte i // 8, bit i % 8), zero-filled after the last field:
                   1 bit   side to move (0 white, 1 black)
                   6 bits  white king square, then 6 bits black king square (0 = a1 .. 63 = h8)
                   board   ranks 8..1, files a..h, kings skipped, Huffman codes (written as
                           integers, least significant bit first): empty `0` (1 bit);
                           pawn 0b0001, knight 0b0011, bishop 0b0101, rook 0b0111,
                           queen 0b1001 (4 bits each) followed by 1 colour bit (1 = black)
                   4 bits  castling rights K, Q, k, q
                   1 bit   en passant square present, then 6 bits its square; Stockfish's
                           packer writes the square whenever a pawn attacks it (pseudo-legal)
                   6 bits  halfmove clock (rule 50), low 6 bits
                   8 bits  fullmove number, low byte; then 8 bits its high byte (0 is
                           kept: nnue-pytorch's packer writes 0 for the start position)
                   1 bit   halfmove clock bit 6
    bytes 32-33  int16   score, side to move (VALUE_NONE 32002 = no score)
    bytes 34-35  uint16  move, Stockfish's encoding (chess.moves: flag, promotion, from, to;
                         castling as king takes rook)
    bytes 36-37  uint16  game ply
    byte  38     int8    result, side to move: 1 win, 0 draw, -1 loss
    byte  39     uint8   padding, written 0xFF (as nnue-pytorch's and RubiChess's converters)
All little-endian. Every record is validated, by the same rules as the compiled decoder
(chess/csrc; tests/data/test_decoders_agree.py flips every bit of sample records through
both): castling rights need their king and rook at home, a castling move's rook square is a
corner of the king's rank, promotion bits only on promotions; an en passant square is kept
only when a pawn of the side to move attacks it and the pushed pawn stands in front of it (as
Stockfish's reader), else ignored. Errors name the file, the record and its byte offset; with
skip_bad a bad record is counted and skipped.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

import chess

from zeroforge.atomic import atomic_open
from zeroforge.chess.moves import (
    check_kind,
    decode_sf_move,
    encode_sf_move,
    pseudo_legal_en_passant,
)
from zeroforge.chess.records import (
    ChessDataError,
    ReadStats,
    TrainingRecord,
    check_board,
    check_move,
    check_record,
    check_values,
    fast_fen,
)

SUFFIX = ".bin"
RECORD_BYTES = 40
SFEN_BYTES = 32
SFEN_BITS = 8 * SFEN_BYTES
TAIL = struct.Struct("<hHHbB")  # score, move, game ply, result, padding
PADDING = 0xFF
READ_RECORDS = 4096  # records read from disk at a time
# Huffman codes of the pieces other than kings: code, bit count (sfen_packer.cpp)
EMPTY_CODE = (0, 1)
PIECE_CODES = {
    chess.PAWN: 0b0001,
    chess.KNIGHT: 0b0011,
    chess.BISHOP: 0b0101,
    chess.ROOK: 0b0111,
    chess.QUEEN: 0b1001,
}
PIECE_CODE_BITS = 4
CODE_PIECES = {code: piece for piece, code in PIECE_CODES.items()}
RULE50_LOW_BITS, RULE50_LIMIT = 6, 127  # 6 bits + 1 high bit
FULLMOVE_LIMIT = 0xFFFF
SQUARE_BITS = 6
# castling bits in order: (colour, king side)
CASTLING_ORDER = (
    (chess.WHITE, True),
    (chess.WHITE, False),
    (chess.BLACK, True),
    (chess.BLACK, False),
)
CASTLING_ROOK = {
    (chess.WHITE, True): chess.H1,
    (chess.WHITE, False): chess.A1,
    (chess.BLACK, True): chess.H8,
    (chess.BLACK, False): chess.A8,
}
BOARD_ORDER = [chess.square(f, r) for r in range(7, -1, -1) for f in range(8)]


# ---------------------------------------------------------------------------------------
# The 256-bit position


def pack_position(board: chess.Board, fullmove: int | None = None) -> bytes:
    """The 32-byte PackedSfen of a position, as Stockfish's `sfen_pack` writes it; `fullmove`
    overrides the board's move number (python-chess makes 0 a 1; the file may hold 0)."""
    bits, cursor = 0, 0

    def put(value: int, count: int) -> None:
        nonlocal bits, cursor
        bits |= (value & ((1 << count) - 1)) << cursor
        cursor += count

    put(int(board.turn == chess.BLACK), 1)
    for color in (chess.WHITE, chess.BLACK):
        king = board.king(color)
        if king is None:
            raise ValueError(f"no {chess.COLOR_NAMES[color]} king: {board.fen()}")
        put(king, SQUARE_BITS)
    for square in BOARD_ORDER:
        piece = board.piece_at(square)
        if piece is None:
            put(*EMPTY_CODE)
        elif piece.piece_type != chess.KING:
            put(PIECE_CODES[piece.piece_type], PIECE_CODE_BITS)
            put(int(piece.color == chess.BLACK), 1)
    for color, king_side in CASTLING_ORDER:
        has = (
            board.has_kingside_castling_rights if king_side else board.has_queenside_castling_rights
        )
        put(int(has(color)), 1)
    ep = pseudo_legal_en_passant(board)
    put(int(ep is not None), 1)
    if ep is not None:
        put(ep, SQUARE_BITS)
    rule50 = board.halfmove_clock
    fullmove = board.fullmove_number if fullmove is None else fullmove
    if rule50 > RULE50_LIMIT:
        raise ValueError(f"halfmove clock {rule50} > {RULE50_LIMIT} does not fit a .bin")
    if fullmove > FULLMOVE_LIMIT:
        raise ValueError(f"move number {fullmove} > {FULLMOVE_LIMIT} does not fit a .bin")
    put(rule50, RULE50_LOW_BITS)
    put(fullmove, 8)
    put(fullmove >> 8, 8)
    put(rule50 >> RULE50_LOW_BITS, 1)
    if cursor > SFEN_BITS:
        raise ValueError(f"position needs {cursor} bits > {SFEN_BITS}: {board.fen()}")
    return bits.to_bytes(SFEN_BYTES, "little")


def unpack_position(data: bytes) -> chess.Board:
    """The position of a 32-byte PackedSfen; ValueError if the bits are not one."""
    bits, cursor = int.from_bytes(data[:SFEN_BYTES], "little"), 0

    def take(count: int) -> int:
        nonlocal cursor
        if cursor + count > SFEN_BITS:
            raise ValueError(f"position runs past {SFEN_BITS} bits")
        value = (bits >> cursor) & ((1 << count) - 1)
        cursor += count
        return value

    board = chess.Board.empty()
    board.turn = chess.BLACK if take(1) else chess.WHITE
    kings = take(SQUARE_BITS), take(SQUARE_BITS)
    if kings[0] == kings[1]:
        raise ValueError(f"both kings on {chess.square_name(kings[0])}")
    masks = dict.fromkeys(CODE_PIECES.values(), 0)
    colors = [chess.BB_SQUARES[kings[1]], chess.BB_SQUARES[kings[0]]]  # black, white
    for square in BOARD_ORDER:  # the hot loop: bits read inline
        if square == kings[0] or square == kings[1]:
            continue
        if not (bits >> cursor) & 1:
            cursor += 1
            continue
        piece = CODE_PIECES.get((bits >> cursor) & 0xF)
        if piece is None:
            raise ValueError(f"bad piece code {(bits >> cursor) & 0xF:#06b} at bit {cursor}")
        black = (bits >> (cursor + PIECE_CODE_BITS)) & 1
        cursor += PIECE_CODE_BITS + 1
        masks[piece] |= chess.BB_SQUARES[square]
        colors[not black] |= chess.BB_SQUARES[square]
    if cursor > SFEN_BITS:
        raise ValueError(f"position runs past {SFEN_BITS} bits")
    board.pawns, board.knights, board.bishops = (
        masks[chess.PAWN],
        masks[chess.KNIGHT],
        masks[chess.BISHOP],
    )
    board.rooks, board.queens = masks[chess.ROOK], masks[chess.QUEEN]
    board.kings = chess.BB_SQUARES[kings[0]] | chess.BB_SQUARES[kings[1]]
    board.occupied_co = [colors[0], colors[1]]
    board.occupied = colors[0] | colors[1]
    rights = 0
    for key in CASTLING_ORDER:
        if take(1):
            rights |= chess.BB_SQUARES[CASTLING_ROOK[key]]
    board.castling_rights = rights
    if board.clean_castling_rights() != rights:
        raise ValueError("castling rights without the king and rook on their squares")
    if take(1):
        board.ep_square = take(SQUARE_BITS)
        board.ep_square = pseudo_legal_en_passant(board)  # as Stockfish's reader: else ignored
    rule50 = take(RULE50_LOW_BITS)
    fullmove = take(8)
    fullmove |= take(8) << 8
    board.halfmove_clock = rule50 | (take(1) << RULE50_LOW_BITS)
    board.fullmove_number = fullmove  # as stored: 0 too (nnue-pytorch's start positions)
    return board


# ---------------------------------------------------------------------------------------
# Records


def fen_fullmove(fen: str) -> int | None:
    """The move number field of a FEN as written (python-chess reads 0 as 1), None if absent."""
    fields = fen.split()
    return int(fields[5]) if len(fields) > 5 and fields[5].isdigit() else None


def encode_record(record: TrainingRecord) -> bytes:
    """The 40 bytes of a record (validated; ValueError says what is wrong)."""
    board, move = check_record(record)
    return pack_position(board, fen_fullmove(record.fen)) + TAIL.pack(
        record.score, encode_sf_move(board, move), record.ply, record.result, PADDING
    )


def decode_record(data: bytes) -> TrainingRecord:
    """A record from its 40 bytes, validated (ValueError says what is wrong)."""
    board = unpack_position(data)
    check_board(board)
    score, code, ply, result, _padding = TAIL.unpack_from(data, SFEN_BYTES)
    check_values(score, ply, result)
    move = decode_sf_move(code)
    check_move(board, move)
    check_kind(board, move, code >> 14)
    return TrainingRecord(fast_fen(board, board.ep_square), move.uci(), score, ply, result)


def read_bin(
    path: str | os.PathLike, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[TrainingRecord]:
    """Stream the records of a .bin file."""
    stats = stats if stats is not None else ReadStats()
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ChessDataError(
            path, "record 0 (byte 0)", f"cannot read file ({error.strerror})"
        ) from None
    index = 0
    with handle:
        while block := handle.read(RECORD_BYTES * READ_RECORDS):
            for start in range(0, len(block) - RECORD_BYTES + 1, RECORD_BYTES):
                try:
                    record = decode_record(block[start : start + RECORD_BYTES])
                except ValueError as error:
                    where = f"record {index} (byte {index * RECORD_BYTES})"
                    stats.bad(ChessDataError(path, where, str(error)), skip_bad)
                else:
                    stats.records += 1
                    yield record
                index += 1
            rest = len(block) % RECORD_BYTES
            if rest:
                where = f"record {index} (byte {index * RECORD_BYTES})"
                reason = f"cut short: {rest} trailing bytes, records are {RECORD_BYTES}"
                stats.bad(ChessDataError(path, where, reason), skip_bad)
                return


def write_bin(path: str | os.PathLike, records: Iterable[TrainingRecord]) -> int:
    """Write records (each validated) atomically; returns how many were written."""
    count = 0
    with atomic_open(path) as handle:
        for count, record in enumerate(records, 1):
            try:
                handle.write(encode_record(record))
            except ValueError as error:
                raise ValueError(f"record {count - 1}: {error}") from None
    return count
