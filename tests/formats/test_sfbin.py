import chess
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.chess.games import SPECIAL_FENS, games, play
from zeroforge.chess.records import ChessDataError, ReadStats, TrainingRecord
from zeroforge.formats.sfbin import (
    RECORD_BYTES,
    SFEN_BYTES,
    decode_record,
    encode_record,
    pack_position,
    read_bin,
    write_bin,
)


def _bits_to_bytes(bits: str, size: int) -> bytes:
    """Bits in stream order, packed least significant bit first (bit i -> byte i // 8)."""
    value = sum(1 << i for i, bit in enumerate(bits) if bit == "1")
    return value.to_bytes(size, "little")


def test_start_position_bytes_worked_out_by_hand():
    rook, knight, bishop, queen, pawn = "1110", "1100", "1010", "1001", "1000"  # codes, LSB first
    white, black = "0", "1"
    bits = "0"  # white to move
    bits += "001000"  # white king e1 = 4, six bits LSB first
    bits += "001111"  # black king e8 = 60
    bits += "".join(p + black for p in (rook, knight, bishop, queen, bishop, knight, rook))
    bits += (pawn + black) * 8
    bits += "0" * 32  # ranks 6..3 empty
    bits += (pawn + white) * 8
    bits += "".join(p + white for p in (rook, knight, bishop, queen, bishop, knight, rook))
    bits += "1111"  # K Q k q
    bits += "0"  # no en passant
    bits += "000000" + "10000000" + "00000000" + "0"  # rule50 0, fullmove 1, high bits
    expected_position = _bits_to_bytes(bits, 32)
    assert pack_position(chess.Board()) == expected_position
    assert (
        expected_position.hex()
        == "08fece9aebbc31c618638c000000002184104208679454c67940000000000000"
    )
    record = TrainingRecord(chess.STARTING_FEN, "e2e4", 33, 0, 1)
    tail = bytes([33, 0, 12 << 6 & 0xFF | 28, (12 << 6) >> 8, 0, 0, 1, 0xFF])
    assert encode_record(record) == expected_position + tail
    assert decode_record(expected_position + tail) == record


def test_pseudo_legal_en_passant_kept_as_stockfish_writes_it():
    fen = "8/8/8/KPp4r/8/8/8/6k1 w - c6 0 50"  # b5xc6 would expose the king: still written
    record = TrainingRecord(fen, "a5a4", 0, 98, 0)
    assert decode_record(encode_record(record)) == record
    without = pack_position(chess.Board(fen.replace("c6", "-")))
    assert pack_position(chess.Board(fen)) != without


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(SPECIAL_FENS))
def test_write_then_read_is_identity(tmp_path_factory, seed, start):
    import random

    records = play(random.Random(seed), start, 60)
    path = tmp_path_factory.mktemp("bin") / "x.bin"
    assert write_bin(path, records) == len(records)
    assert path.stat().st_size == RECORD_BYTES * len(records)
    stats = ReadStats()
    assert list(read_bin(path, stats=stats)) == records
    assert stats.records == len(records) and stats.bad_records == 0


def test_bad_records_name_file_record_and_byte(tmp_path):
    records = games(1, 3, 10)
    path = tmp_path / "bad.bin"
    write_bin(path, records)
    data = bytearray(path.read_bytes())
    data[RECORD_BYTES * 2 + 35] ^= 0x3F  # the third record's move: garbage
    path.write_bytes(bytes(data) + b"\x01\x02\x03")
    with pytest.raises(ChessDataError, match=r"bad\.bin: record 2 \(byte 80\): move"):
        list(read_bin(path))
    stats = ReadStats()
    kept = list(read_bin(path, skip_bad=True, stats=stats))
    assert kept == records[:2] + records[3:]
    assert stats.bad_records == 2  # the bad move and the 3 trailing bytes
    assert "cut short: 3 trailing bytes" in stats.errors[1]


@pytest.mark.parametrize(
    "record, reason",
    [
        (TrainingRecord(chess.STARTING_FEN, "e2e5", 0, 0, 0), "not legal"),
        (TrainingRecord(chess.STARTING_FEN, "e2e4", 40000, 0, 0), "score"),
        (TrainingRecord(chess.STARTING_FEN, "e2e4", 0, 0, 2), "result"),
        (TrainingRecord(chess.STARTING_FEN, "e2e4", 0, -1, 0), "ply"),
        (
            TrainingRecord("8/8/8/8/8/8/8/8 w - - 0 1", "e2e4", 0, 0, 0),
            "not a legal chess position",
        ),
    ],
)
def test_writer_refuses_bad_records(tmp_path, record, reason):
    with pytest.raises(ValueError, match=reason):
        write_bin(tmp_path / "x.bin", [record])
    assert not (tmp_path / "x.bin").exists()


def test_a_bin_read_and_written_back_is_byte_identical_whatever_its_move_numbers(tmp_path):
    """nnue-pytorch's packer stores 0 as the start position's move number; python-chess reads
    a FEN's 0 as 1: .bin -> .plain -> .bin must keep the file's number, whatever it is."""
    from zeroforge.cli import main

    records = games(11, 6, 30)
    fullmoves = [0, 1, 255, 256, 0xFFFF]
    changed = [TrainingRecord(chess.STARTING_FEN.replace(" 0 1", " 0 0"), "e2e4", 20, 0, 1)]
    for index, record in enumerate(records[: len(fullmoves)]):
        fields = record.fen.split()
        fields[5] = str(fullmoves[index])
        changed.append(TrainingRecord(" ".join(fields), record.move, 0, record.ply, 0))
    first = tmp_path / "a.bin"
    write_bin(first, changed + records)
    assert list(read_bin(first)) == changed + records  # the FEN's move number as stored
    start = first.read_bytes()[:RECORD_BYTES]
    assert start[:SFEN_BYTES] != pack_position(chess.Board())  # 0, not 1, in the file
    assert main(["nnue", "convert", str(first), str(tmp_path / "b.plain")]) == 0
    assert " w KQkq - 0 0\n" in (tmp_path / "b.plain").read_text()
    assert main(["nnue", "convert", str(tmp_path / "b.plain"), str(tmp_path / "c.bin")]) == 0
    assert (tmp_path / "c.bin").read_bytes() == first.read_bytes()
