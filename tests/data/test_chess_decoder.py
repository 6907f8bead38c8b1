"""The compiled chess decoder against python-chess and the Python readers of formats/.

Perft numbers of the standard test positions (chessprogramming.org's, the ones python-chess
checks itself against), legal move lists and HalfKAv2_hm features of random games equal to
python-chess's, and every record of .binpack/.bin/.plain files equal to what formats/ reads.
"""

from __future__ import annotations

import random
from pathlib import Path

import chess
import numpy as np
import pytest

from tests.chess.games import SPECIAL_FENS, games
from zeroforge.chess.features import halfka_features
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.data.chess_decoder import (
    FLAG_CAPTURE,
    FLAG_IN_CHECK,
    fen_record,
    iter_decoded,
    legal_moves,
    move_uci,
    perft,
    read_decoded,
)
from zeroforge.formats.binpack import read_binpack, write_binpack
from zeroforge.formats.plain import read_plain, write_plain
from zeroforge.formats.sfbin import RECORD_BYTES, read_bin, write_bin

PERFT = [  # FEN, depth, leaf nodes
    (chess.STARTING_FEN, 4, 197281),
    ("r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1", 3, 97862),
    ("8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1", 5, 674624),
    ("r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1", 4, 422333),
    ("rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8", 3, 62379),
    ("r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10", 3, 89890),
]


@pytest.mark.parametrize(("fen", "depth", "nodes"), PERFT)
def test_perft_of_the_standard_positions(fen, depth, nodes):
    assert perft(fen, depth) == nodes


def test_perft_agrees_with_python_chess_at_depth_two():
    for fen, _, _ in PERFT:
        board = chess.Board(fen)
        expected = sum(
            board.push(m) or board.legal_moves.count() + 0 * board.pop().to_square
            for m in list(board.legal_moves)
        )
        assert perft(fen, 2) == expected


def _positions(seed: int, count: int):
    rng = random.Random(seed)
    for start in SPECIAL_FENS * count:
        board = chess.Board(start)
        for _ in range(rng.randint(1, 120)):
            if board.is_game_over():
                break
            yield board
            board.push(rng.choice(list(board.legal_moves)))


def test_legal_moves_and_features_equal_python_chess_on_random_games():
    checked = 0
    for board in _positions(seed=3, count=6):
        fen = board.fen()
        assert sorted(legal_moves(fen)) == sorted(m.uci() for m in board.legal_moves), fen
        move = next(iter(board.legal_moves))
        record = fen_record(fen, move.uci(), ply=board.ply())
        assert sorted(record["us"][record["us"] >= 0]) == list(halfka_features(board, board.turn))
        them = record["them"][record["them"] >= 0]
        assert sorted(them) == list(halfka_features(board, not board.turn))
        assert record["pieces"] == chess.popcount(board.occupied)
        assert bool(record["flags"] & FLAG_IN_CHECK) == board.is_check()
        checked += 1
    assert checked > 1000


def test_features_of_every_king_square_for_both_perspectives_equal_the_definition():
    """The compiled decoder's features (tables loaded from chess.features) against the Python
    definition, each side's king on each of the 64 squares (all 32 buckets, mirrored and not,
    both perspectives), with random other pieces of every kind."""
    rng = random.Random(5)
    checked = set()
    for king in range(64):
        for color in (chess.WHITE, chess.BLACK):
            for _ in range(50):
                board = chess.Board.empty()
                board.set_piece_at(king, chess.Piece(chess.KING, color))
                squares = [s for s in chess.SQUARES if s != king]
                rng.shuffle(squares)
                board.set_piece_at(squares.pop(), chess.Piece(chess.KING, not color))
                for square in squares[: rng.randint(0, 28)]:
                    piece_type = rng.randint(chess.PAWN, chess.QUEEN)
                    if piece_type != chess.PAWN or 8 <= square < 56:
                        board.set_piece_at(square, chess.Piece(piece_type, rng.random() < 0.5))
                board.turn = rng.random() < 0.5
                moves = list(board.legal_moves)
                if not board.is_valid() or not moves:
                    continue
                record = fen_record(board.fen(), moves[0].uci())
                us = record["us"][record["us"] >= 0]
                them = record["them"][record["them"] >= 0]
                assert sorted(us) == list(halfka_features(board, board.turn)), board.fen()
                assert sorted(them) == list(halfka_features(board, not board.turn)), board.fen()
                checked.add((king, color))
                break
    assert len(checked) == 128


def _same(record, row) -> None:
    """A formats/ record and a decoded row describe the same training position."""
    board = chess.Board(record.fen)
    move = chess.Move.from_uci(record.move)
    assert sorted(row["us"][row["us"] >= 0]) == list(halfka_features(board, board.turn))
    assert sorted(row["them"][row["them"] >= 0]) == list(halfka_features(board, not board.turn))
    assert move_uci(int(row["move"])) == record.move
    assert (row["score"], row["ply"], row["result"]) == (record.score, record.ply, record.result)
    assert row["side"] == (board.turn == chess.BLACK)
    assert row["pieces"] == chess.popcount(board.occupied)
    assert bool(row["flags"] & FLAG_IN_CHECK) == board.is_check()
    captured = board.piece_at(move.to_square) is not None and not board.is_castling(move)
    assert bool(row["flags"] & FLAG_CAPTURE) == captured


@pytest.mark.parametrize(
    ("suffix", "write", "read"),
    [
        (".binpack", write_binpack, read_binpack),
        (".bin", write_bin, read_bin),
        (".plain", write_plain, read_plain),
    ],  # fmt: skip
)
def test_decoded_records_equal_the_python_readers(tmp_path, suffix, write, read):
    path = tmp_path / f"games{suffix}"
    write(path, games(seed=11, count=40))
    expected = list(read(path))
    rows = read_decoded(path)
    assert len(rows) == len(expected) > 500
    for record, row in zip(expected, rows, strict=True):
        _same(record, row)


def test_binpack_pieces_are_its_chunks_and_can_be_skipped(tmp_path):
    path = tmp_path / "two.binpack"
    first, second = games(seed=1, count=10), games(seed=2, count=10)
    write_binpack(tmp_path / "a.binpack", first)
    write_binpack(tmp_path / "b.binpack", second)
    path.write_bytes((tmp_path / "a.binpack").read_bytes() + (tmp_path / "b.binpack").read_bytes())
    pieces = {piece: len(rows) for piece, rows in iter_decoded(path)}
    assert pieces == {0: len(first), 1: len(second)}
    only = [(piece, len(rows)) for piece, rows in iter_decoded(path, select=lambda p: p == 1)]
    assert only == [(1, len(second))]


def _corrupt_move(data: bytearray, start: int) -> None:
    """Point the stem's move (bytes 24-25 of the first chain) at an empty square."""
    data[start + 24 : start + 26] = (0x0000 | 20 << 8 | 28 << 2).to_bytes(2, "big")  # e3e4


def test_bad_binpack_names_file_chunk_and_byte(tmp_path):
    path = tmp_path / "bad.binpack"
    write_binpack(path, games(seed=5, count=4))
    good = path.read_bytes()
    data = bytearray(good + good)
    _corrupt_move(data, len(good) + 8)
    path.write_bytes(bytes(data))
    with pytest.raises(
        ChessDataError, match=rf"bad\.binpack: chunk 1, chain at byte {len(good) + 8}"
    ):
        read_decoded(path)
    stats = ReadStats()
    rows = [r for _, r in iter_decoded(path, skip_bad=True, stats=stats)]
    assert sum(map(len, rows)) == len(list(read_binpack(tmp_path / "bad.binpack", skip_bad=True)))
    assert (
        stats.bad_records == 1 and "stem: move of a piece the side to move lacks" in stats.errors[0]
    )


def test_bad_bin_records_are_named_and_skipped(tmp_path):
    path = tmp_path / "bad.bin"
    records = games(seed=6, count=3)
    write_bin(path, records)
    data = bytearray(path.read_bytes())
    data[3 * RECORD_BYTES + 38] = 7  # result 7
    path.write_bytes(bytes(data) + b"\x00" * 5)
    with pytest.raises(ChessDataError, match=rf"record 3 \(byte {3 * RECORD_BYTES}\): result"):
        read_decoded(path)
    stats = ReadStats()
    rows = np.concatenate([r for _, r in iter_decoded(path, skip_bad=True, stats=stats)])
    assert len(rows) == len(records) - 1 and stats.bad_records == 2
    assert "cut short: 5 of 40 bytes" in stats.errors[1]


def test_bad_fen_or_move_is_refused():
    with pytest.raises(ValueError, match="illegal move"):
        fen_record(chess.STARTING_FEN, "e2e5")
    with pytest.raises(ValueError, match="king"):
        fen_record("8/8/8/8/8/8/8/8 w - - 0 1", "a1a2")


def test_stockfish_sample_decodes_as_the_python_reader_reads_it():
    """data/sample/chess: positions Stockfish 15.1 played and scored (gensfen)."""
    path = Path(__file__).resolve().parents[2] / "data" / "sample" / "chess" / "sf15-d6.binpack"
    expected = list(read_binpack(path))
    rows = read_decoded(path)
    assert len(rows) == len(expected) > 4000
    for record, row in zip(expected, rows, strict=True):
        _same(record, row)
