"""The compiled decoder and the Python readers of formats/ accept exactly the same records.

Every single-bit flip of small .bin and .binpack files made from data/sample/chess (positions
picked for castling rights, en passant squares, promotions, castling moves and checks) is read
by both: each must accept the same records, and on accepted records give the same position
(HalfKAv2_hm features of both perspectives), move, score, ply and result.
"""

from __future__ import annotations

from pathlib import Path

import chess
import pytest

from zeroforge.chess.features import halfka_features
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.data.chess_decoder import iter_decoded, move_uci
from zeroforge.formats.binpack import read_binpack, write_binpack
from zeroforge.formats.sfbin import RECORD_BYTES, read_bin, write_bin

SAMPLE = Path(__file__).resolve().parents[2] / "data/sample/chess/sf15-d6.binpack"
PER_KIND = 3  # records picked of each kind
CHAIN_PLIES = 2  # plies after each .binpack stem (movetext is fuzzed too)


def _kinds(record, board: chess.Board, move: chess.Move) -> list[str]:
    fields = record.fen.split()
    return [
        kind
        for kind, hit in (
            ("castling rights", fields[2] != "-"),
            ("both sides' rights", "K" in fields[2] and "k" in fields[2]),
            ("en passant", board.has_legal_en_passant()),
            ("promotion", move.promotion is not None),
            ("castling", board.is_castling(move)),
            ("en passant capture", board.is_en_passant(move)),
            ("check", board.is_check()),
        )
        if hit
    ]


@pytest.fixture(scope="module")
def picked():
    """Indices of sample records (PER_KIND of each kind above, and some spread evenly)."""
    records = list(read_binpack(SAMPLE))
    chosen: dict[str, list[int]] = {}
    for index, record in enumerate(records[: -CHAIN_PLIES - 1]):
        board = chess.Board(record.fen)
        for kind in _kinds(record, board, chess.Move.from_uci(record.move)):
            if len(chosen.setdefault(kind, [])) < PER_KIND:
                chosen[kind].append(index)
    spread = list(range(0, len(records) - CHAIN_PLIES - 1, len(records) // PER_KIND))
    indices = sorted({i for found in chosen.values() for i in found} | set(spread))
    assert all(len(found) == PER_KIND for found in chosen.values()) and len(chosen) == 7
    return records, indices


def _python(path: Path, reader) -> tuple[list[tuple], int]:
    stats = ReadStats()
    out = []
    for record in reader(path, skip_bad=True, stats=stats):
        board = chess.Board(record.fen)
        us = halfka_features(board, board.turn).tolist()
        them = halfka_features(board, not board.turn).tolist()
        out.append((us, them, record.move, record.score, record.ply, record.result))
    return out, stats.bad_records


def _compiled(path: Path) -> tuple[list[tuple], int]:
    stats = ReadStats()
    out = []
    for _, rows in iter_decoded(path, skip_bad=True, stats=stats):
        for row in rows:
            us, them = sorted(row["us"][row["us"] >= 0]), sorted(row["them"][row["them"] >= 0])
            fields = (move_uci(int(row["move"])), int(row["score"]), int(row["ply"]))
            out.append(([int(f) for f in us], [int(f) for f in them], *fields, int(row["result"])))
    return out, stats.bad_records


def _flips(data: bytes, start: int, end: int):
    for bit in range(8 * start, 8 * end):
        flipped = bytearray(data)
        flipped[bit >> 3] ^= 1 << (bit & 7)
        yield bit, bytes(flipped)


def _disagreements(tmp_path: Path, files: list[bytes], suffix: str, reader, start: int):
    path, found = tmp_path / f"flipped{suffix}", []
    flips = 0
    for number, data in enumerate(files):
        for bit, flipped in _flips(data, start, len(data)):
            path.write_bytes(flipped)
            python, compiled = _python(path, reader), _compiled(path)
            flips += 1
            if python != compiled:
                found.append(f"file {number} bit {bit}: python {python} compiled {compiled}")
    return flips, found


def test_every_single_bit_flip_of_bin_records(tmp_path, picked):
    records, indices = picked
    source = tmp_path / "picked.bin"
    write_bin(source, [records[i] for i in indices])
    data = source.read_bytes()
    files = [data[i : i + RECORD_BYTES] for i in range(0, len(data), RECORD_BYTES)]
    flips, found = _disagreements(tmp_path, files, ".bin", read_bin, 0)
    assert flips == 8 * len(data) > 5_000
    assert not found, f"{len(found)} of {flips} flips read differently; first: {found[0]}"


def test_every_single_bit_flip_of_binpack_chains(tmp_path, picked):
    """One file a chain (a stem and CHAIN_PLIES moves); the chunk header is left alone."""
    records, indices = picked
    files = []
    for i in indices:
        source = tmp_path / "chain.binpack"
        write_binpack(source, records[i : i + CHAIN_PLIES + 1])
        files.append(source.read_bytes())
    flips, found = _disagreements(tmp_path, files, ".binpack", read_binpack, 8)
    assert flips > 5_000
    assert not found, f"{len(found)} of {flips} flips read differently; first: {found[0]}"


def test_a_flip_that_moves_the_king_keeps_no_castling_right(tmp_path, picked):
    """Issue 23's case: the black king's square moves (bit 7 of a .bin record) while the record
    keeps black's castling rights: both decoders refuse the record."""
    records, _ = picked
    index = next(i for i, r in enumerate(records) if "k" in r.fen.split()[2])
    source = tmp_path / "one.bin"
    write_bin(source, [records[index]])
    data = bytearray(source.read_bytes())
    data[0] ^= 1 << 7
    source.write_bytes(bytes(data))
    with pytest.raises(ChessDataError, match="castling"):
        list(read_bin(source))
    with pytest.raises(ChessDataError, match="castling"):
        list(iter_decoded(source))
