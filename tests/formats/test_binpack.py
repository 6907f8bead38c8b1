import io
import random

import chess
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.chess.games import SPECIAL_FENS, games, play
from zeroforge.chess.records import ChessDataError, ReadStats, TrainingRecord
from zeroforge.formats.binpack import BinpackWriter, encode_binpack, read_binpack, write_binpack
from zeroforge.formats.binpack_codec import unzigzag, zigzag


def _normalised(records):
    return [
        TrainingRecord(chess.Board(r.fen).fen(), r.move, r.score, r.ply, r.result) for r in records
    ]


def test_zigzag_as_int16():
    assert [zigzag(v) for v in (0, -1, 1, -2, 2, 32767, -32768)] == [0, 1, 2, 3, 4, 65534, 65535]
    assert all(unzigzag(zigzag(v)) == v for v in range(-32768, 32768, 7))


def test_two_ply_chain_bytes_worked_out_by_hand(tmp_path):
    after_e4 = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"
    records = [
        TrainingRecord(chess.STARTING_FEN, "e2e4", 33, 0, 1),
        TrainingRecord(after_e4, "e7e5", -20, 1, -1),
    ]
    stem = bytes.fromhex(
        "ffff00000000ffff"  # occupied: ranks 1, 2, 7, 8
        "2d844ad2"  # a1..h1 nibbles: castling rook 13, N 2, B 4, Q 8, K 10, B 4, N 2, rook 13
        "00000000"  # white pawns 0
        "11111111"  # black pawns 1
        "3e955be3"  # a8..h8: castling rook 14, n 3, b 5, q 9, k 11 (white moves), b 5, n 3, 14
        "0c70"  # move e2e4: type 0, from 12 << 8, to 28 << 2
        "0042"  # score 33 -> zig-zag 66
        "8000"  # ply 0 | zig-zag(result 1) = 2 << 14
        "0000"  # halfmove clock
    )
    # e7e5: piece 4 of black's 16 (4 bits 0100), destination 0 of {e5, e6} (1 bit 0);
    # score -20 - (-33) = 13 -> zig-zag 26 = blocks 1|1010 then 0|0001; then one pad bit
    movetext = int("0100" + "0" + "11010" + "00001" + "0", 2).to_bytes(2, "big")
    payload = stem + b"\x00\x01" + movetext
    expected = b"BINP" + len(payload).to_bytes(4, "little") + payload
    assert encode_binpack(records) == expected
    (tmp_path / "two.binpack").write_bytes(expected)
    assert list(read_binpack(tmp_path / "two.binpack")) == records


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(SPECIAL_FENS), st.integers(1, 3))
def test_write_then_read_is_identity(tmp_path_factory, seed, start, count):
    rng = random.Random(seed)
    records = [r for _ in range(count) for r in play(rng, start, rng.randint(1, 70))]
    path = tmp_path_factory.mktemp("bp") / "x.binpack"
    assert write_binpack(path, records) == len(records)
    stats = ReadStats()
    back = list(read_binpack(path, stats=stats))
    assert back == _normalised(records)
    assert stats.records == len(records)
    again = path.with_name("again.binpack")
    write_binpack(again, back)
    assert again.read_bytes() == path.read_bytes()


def test_chunks_split_between_chains_and_files_concatenate(tmp_path):
    records = games(5, 24, 40)
    buffer = io.BytesIO()
    writer = BinpackWriter(buffer, chunk_bytes=300)
    for record in records:
        writer.add(record)
    writer.close()
    data = buffer.getvalue()
    assert data.count(b"BINP") > 3
    path = tmp_path / "many.binpack"
    path.write_bytes(data + encode_binpack(records[:5]))
    assert list(read_binpack(path)) == _normalised(records + records[:5])


def test_chunk_ends_end_chunks_exactly_there(tmp_path):
    from zeroforge.data.chess_decoder import iter_decoded

    records = games(5, 24, 40)
    ends = [3, 40, 41, len(records)]  # mid-chain ends split a game's chain
    path = tmp_path / "ends.binpack"
    assert write_binpack(path, records, chunk_ends=ends) == len(records)
    assert [len(part) for _, part in iter_decoded(path)] == [3, 37, 1, len(records) - 41]
    assert list(read_binpack(path)) == _normalised(records)


def test_a_game_is_one_chain(tmp_path):
    records = play(random.Random(7), chess.STARTING_FEN, 60)
    data = encode_binpack(records)
    assert len(data) < 8 + 32 + 2 + 3 * 60  # one stem, then a few bits a ply
    broken = records[:30] + [
        records[30].__class__(
            records[30].fen, records[30].move, records[30].score, 999, records[30].result
        )
    ]
    assert len(encode_binpack(broken + records[31:])) > len(data) + 32  # a new stem


def test_bad_data_names_file_chunk_and_byte(tmp_path):
    records = games(2, 4, 30)
    good = encode_binpack(records[:40]) + encode_binpack(records[40:])
    path = tmp_path / "bad.binpack"
    path.write_bytes(b"JUNK" + good)
    with pytest.raises(ChessDataError, match=r"bad\.binpack: chunk 0 \(byte 0\): no chunk header"):
        list(read_binpack(path))
    stats = ReadStats()
    assert list(read_binpack(path, skip_bad=True, stats=stats)) == _normalised(records)
    assert stats.bad_records == 1

    data = bytearray(good)
    data[8 + 32 + 2] ^= 0xFF  # the first chain's movetext
    path.write_bytes(bytes(data))
    with pytest.raises(ChessDataError, match=r"chunk 0, chain at byte 8: ply \d+ of \d+"):
        list(read_binpack(path))
    stats = ReadStats()
    kept = list(read_binpack(path, skip_bad=True, stats=stats))
    assert kept[-(len(records) - 40) :] == _normalised(records[40:])  # the next chunk is intact
    assert stats.bad_records == 1

    path.write_bytes(good[:-5])
    with pytest.raises(ChessDataError, match=r"chunk 1 \(byte \d+\): cut short"):
        list(read_binpack(path))


@pytest.mark.parametrize(
    "offset, value, reason",
    [
        (8, 0xDD, "castling rook on b1"),  # a1 and b1 share byte 8: both castling rooks
        (12, 0x0C, "en passant pawn on a2"),
        (24, 0x00, "not legal"),  # the move from a1 (a blocked rook) to e4
        (28, 0xC0, "result"),  # result bits 3 -> zig-zag -2
    ],
)
def test_bad_stems_are_named(tmp_path, offset, value, reason):
    data = bytearray(encode_binpack([TrainingRecord(chess.STARTING_FEN, "e2e4", 0, 0, 0)]))
    data[8 + offset] = value
    (tmp_path / "s.binpack").write_bytes(bytes(data))
    with pytest.raises(ChessDataError, match=rf"s\.binpack: chunk 0, chain at byte 8: .*{reason}"):
        list(read_binpack(tmp_path / "s.binpack"))
