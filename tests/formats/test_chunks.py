import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_positions
from zeroforge.formats.chunks import (
    ChunkError,
    Positions,
    encode_chunk,
    read_chunk,
    write_chunk,
)
from zeroforge.go.geometry import PASS, vertex_to_move

# A game with a capture: white A1 is taken by black B1 (A1's neighbours are A2 and B1).
MOVES = [("b", "A2"), ("w", "A1"), ("b", "B1"), ("w", "Q16"), ("b", "D4")]
CAPTURED = {2: ("w", "A1")}  # after move index 2 (0-based), this stone is gone


def _boards(moves):
    """Stone sets {colour: set(move index)} after each move, board 0 = empty."""
    boards = [{"b": set(), "w": set()}]
    for i, (colour, vertex) in enumerate(moves):
        board = {c: set(s) for c, s in boards[-1].items()}
        if vertex.lower() != "pass":
            board[colour].add(vertex_to_move(vertex))
        if i in CAPTURED:
            gone_colour, gone = CAPTURED[i]
            board[gone_colour].discard(vertex_to_move(gone))
        boards.append(board)
    return boards


def _expected_planes(boards, t, side):
    own, opp = ("b", "w") if side == 0 else ("w", "b")
    planes = np.zeros((16, 361), dtype=np.uint8)
    for k in range(8):
        if t - k >= 0:
            planes[k, sorted(boards[t - k][own])] = 1
            planes[8 + k, sorted(boards[t - k][opp])] = 1
    return planes


@pytest.mark.engine
def test_leelaz_dump_training_decodes_to_the_played_stones(leelaz, lowercase_tmp):
    engine = leelaz("-p", "30", "-r", "0")
    for colour, vertex in MOVES:
        engine.send(f"play {colour} {vertex}")
    reply_w = engine.send("genmove w")
    reply_b = engine.send("genmove b")
    engine.send(f"dump_training w {lowercase_tmp}/game")
    path = lowercase_tmp / "game.0.gz"  # leelaz appends .0.gz
    result = read_chunk(path)
    positions = result.positions
    assert len(positions) == 2 and result.bad_records == 0  # one record per genmove
    boards = _boards(MOVES + [("w", reply_w)])
    assert list(positions.side_to_move) == [1, 0]  # white, then black to move
    assert list(positions.winner) == [1, -1]  # white won, seen from each side to move
    assert np.array_equal(positions.planes[0], _expected_planes(boards, 5, side=1))
    assert np.array_equal(positions.planes[1], _expected_planes(boards, 6, side=0))
    # The captured stone is in white's t-3 plane of record 0 only, not at t-2 (after B1).
    a1 = vertex_to_move("A1")
    assert [positions.planes[0, k, a1] for k in range(8)] == [0, 0, 0, 1, 0, 0, 0, 0]
    # Without randomness leelaz plays its most visited move: the policy's argmax.
    for record, reply in ((0, reply_w), (1, reply_b)):
        move = PASS if reply.lower() == "pass" else vertex_to_move(reply)
        assert int(np.argmax(positions.policy[record])) == move
        assert abs(positions.policy[record].sum() - 1) < 1e-5
    # Writing the decoded positions reproduces leelaz's text byte for byte.
    assert encode_chunk(positions) == gzip.decompress(path.read_bytes())


SAMPLE = Path(__file__).parents[2] / "data" / "sample"


@pytest.mark.parametrize("name", ["gnugo/supervised.0.gz", "selfplay/selfplay-000.0.gz"])
def test_leelaz_chunks_reencode_byte_for_byte(name):
    """Chunks leelaz wrote (dump_supervised: one-hot; dump_training: visit fractions printed by
    C++) come out of encode_chunk exactly as leelaz wrote them."""
    path = SAMPLE / name
    positions = read_chunk(path).positions
    assert len(positions) > 300
    assert encode_chunk(positions) == gzip.decompress(path.read_bytes())


@pytest.mark.parametrize("name", ["chunk.gz", "chunk.txt"])
def test_write_read_round_trip(tmp_path, name):
    positions = make_positions(300, seed=3)
    positions.planes[0, :, 360] = 1  # the odd point 360 (T19) in every plane
    path = tmp_path / name
    write_chunk(path, positions)
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_chunk(path).positions
    assert np.array_equal(back.planes, positions.planes)
    assert np.array_equal(back.side_to_move, positions.side_to_move)
    assert np.array_equal(back.winner, positions.winner)
    assert np.abs(back.policy - positions.policy).max() <= 1e-6
    assert back.planes.dtype == np.uint8 and back.policy.dtype == np.float32
    assert back.winner.dtype == np.int8 and back.side_to_move.dtype == np.uint8


def test_gzip_is_detected_by_content_not_name(tmp_path):
    positions = make_positions(5)
    plain, zipped = tmp_path / "plain.gz", tmp_path / "zipped.txt"
    plain.write_bytes(encode_chunk(positions))
    zipped.write_bytes(gzip.compress(encode_chunk(positions)))
    for path in (plain, zipped):
        assert np.array_equal(read_chunk(path).positions.planes, positions.planes)


def test_policy_printed_like_cpp():
    positions = make_positions(1, soft=False)
    positions.policy[0] = 0
    positions.policy[0, [0, 1, 2, PASS]] = [0.5, 1 / 3, 1 / 6 - 1e-5, 1e-5]
    policy_line = encode_chunk(positions).split(b"\n")[17].split()
    assert policy_line[:4] == [b"0.5", b"0.333333", b"0.166657", b"0"]
    assert policy_line[PASS] == b"1e-05"


def test_positions_helpers():
    a, b = make_positions(4, seed=1), make_positions(3, seed=2)
    both = Positions.concat([a, Positions.empty(), b])
    assert len(both) == 7
    assert np.array_equal(both[4:].planes, b.planes)
    assert len(both[2]) == 1 and np.array_equal(both[2].policy[0], a.policy[2])
    assert len(both[np.array([0, 6])]) == 2


def test_write_refuses_invalid_positions(tmp_path):
    positions = make_positions(2)
    positions.policy[1] *= 2
    with pytest.raises(ValueError, match="sum to 1"):
        write_chunk(tmp_path / "x.gz", positions)
    assert not list(tmp_path.iterdir())


# ---- corrupt input: every kind names the file, the record and the line --------------------

GOOD = encode_chunk(make_positions(3, seed=5, soft=True))


def _lines():
    return GOOD.split(b"\n")[:-1]


def _with_line(index, text):
    lines = _lines()
    lines[index] = text
    return b"\n".join(lines) + b"\n"


def _policy_with(record, tokens):
    return _with_line(record * 19 + 17, b" ".join(tokens))


ONE_HOT = [b"1"] + [b"0"] * 361

CORRUPT = {
    "plane too short": (_with_line(19 + 3, b"0" * 90), 1, 23, "input plane 3"),
    "plane bad hex": (_with_line(5, b"g" + b"0" * 90), 0, 6, "hex digits"),
    "plane bad last char": (_with_line(38, b"0" * 90 + b"2"), 2, 39, "input plane 0"),
    "side to move 2": (_with_line(19 + 16, b"2"), 1, 36, "side to move"),
    "policy 361 entries": (_policy_with(0, ONE_HOT[:361]), 0, 18, "361 numbers"),
    "policy 363 entries": (_policy_with(2, ONE_HOT + [b"0"]), 2, 56, "363 numbers"),
    "policy word": (_policy_with(1, [b"abc"] + ONE_HOT[1:]), 1, 37, "other than numbers"),
    "policy two dots": (_policy_with(1, [b"0.5.1"] + ONE_HOT[1:]), 1, 37, "not a number"),
    "policy negative": (_policy_with(0, [b"-0.5", b"1.5"] + ONE_HOT[2:]), 0, 18, ">= 0"),
    "policy infinite": (_policy_with(0, [b"1e999"] + ONE_HOT[1:]), 0, 18, "finite"),
    "policy sum": (_policy_with(1, [b"0.5"] + ONE_HOT[1:]), 1, 37, "sums to 0.5"),
    "policy all zero": (_policy_with(1, [b"0"] * 362), 1, 37, "sums to 0"),
    "policy two spaces": (_with_line(17, b"1  " + b" ".join(ONE_HOT[1:])), 0, 18, "empty entry"),
    "policy space at end": (_policy_with(2, ONE_HOT + [b""]), 2, 56, "empty entry"),
    "policy tab": (_policy_with(1, [b"1\t0"] + ONE_HOT[2:]), 1, 37, "other than numbers"),
    "winner 0": (_with_line(18, b"0"), 0, 19, "winner"),
    "winner 2": (_with_line(57 - 1, b"2"), 2, 57, "winner"),
    "missing line": (b"\n".join(_lines()[:-1]) + b"\n", 2, 57, "file ends inside the record"),
    "extra line": (GOOD + b"1\n", 3, 59, "file ends inside the record"),
    "binary garbage": (bytes(range(256)) * 300, 0, 1, "input plane 0"),
    "empty file": (b"", 0, 1, "no training records"),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
@pytest.mark.parametrize("compress", [False, True])
def test_corrupt_input_names_file_record_and_line(tmp_path, kind, compress):
    data, record, line, words = CORRUPT[kind]
    path = tmp_path / f"bad-{compress}.gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ChunkError) as caught:
        read_chunk(path)
    error = caught.value
    assert (error.path, error.record, error.line) == (str(path), record, line)
    assert words in str(error)
    assert f"{path}: record {record} (line {line})" in str(error)
    if kind != "empty file":  # with skip, the good records survive and the bad are counted
        skipped = read_chunk(path, on_error="skip")
        assert skipped.bad_records >= 1 and words in skipped.errors[0]
        good = make_positions(3, seed=5)
        kept = skipped.positions
        for i in range(len(kept)):  # every kept record is one of the originals, intact
            match = [j for j in range(3) if np.array_equal(good.planes[j], kept.planes[i])]
            assert match and np.abs(good.policy[match[0]] - kept.policy[i]).max() < 1e-6


def test_chunk_error_pickles():
    error = pickle.loads(pickle.dumps(ChunkError("x.gz", 3, 58, "winner must be 1 or -1")))
    assert (error.path, error.record, error.line) == ("x.gz", 3, 58)
    assert str(error) == "x.gz: record 3 (line 58): winner must be 1 or -1"


def test_skip_counts_only_the_bad_records(tmp_path):
    data = _policy_with(1, [b"0.5"] + ONE_HOT[1:])
    path = tmp_path / "one-bad.txt"
    path.write_bytes(data)
    result = read_chunk(path, on_error="skip")
    assert len(result.positions) == 2 and result.bad_records == 1 and len(result.errors) == 1


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda z: z[: len(z) // 2], "truncated"),
        (lambda z: z[:-4], "truncated"),
        (lambda z: z[:30] + bytes(b ^ 0x55 for b in z[30:60]) + z[60:], "corrupt gzip"),
        (lambda z: z[:-8] + b"\0\0\0\0" + z[-4:], "corrupt gzip"),  # CRC
        (lambda z: z + b"trailing junk", "after the end of the gzip stream"),
        (lambda z: z[:5], "truncated"),
    ],
)
def test_damaged_gzip_is_a_chunk_error(tmp_path, damage, words):
    path = tmp_path / "damaged.gz"
    path.write_bytes(damage(gzip.compress(GOOD)))
    with pytest.raises(ChunkError, match=words) as caught:
        read_chunk(path)
    assert caught.value.path == str(path) and caught.value.line >= 1
    skipped = read_chunk(path, on_error="skip")
    assert skipped.bad_records >= 1 and len(skipped.positions) <= 3


def test_multi_member_gzip_and_missing_file(tmp_path):
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(GOOD) + gzip.compress(GOOD))
    assert len(read_chunk(path).positions) == 6
    with pytest.raises(ChunkError, match="cannot read file"):
        read_chunk(tmp_path / "missing.gz")


# ---- fuzz: random damage to a real chunk raises only ChunkError -----------------------


@pytest.fixture(scope="module")
def real_chunk():
    """A chunk leelaz wrote (shipped sample self-play data: soft policies), plain text."""
    lines = gzip.decompress((SAMPLE / "selfplay/selfplay-000.0.gz").read_bytes()).split(b"\n")
    return b"\n".join(lines[: 19 * 30]) + b"\n"  # 30 records keep each example fast


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=20)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
)


def _mutate(data: bytes, steps) -> bytes:
    for kind, where, what in steps:
        i = where % (len(data) + 1)
        if kind == "flip":
            data = data[:i] + bytes([what]) + data[i + 1 :]
        elif kind == "delete":
            data = data[:i] + data[i + what :]
        elif kind == "insert":
            data = data[:i] + what + data[i:]
        else:
            data = data[:i]
    return data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(mutation, min_size=1, max_size=4), compress=st.booleans())
def test_fuzz_reader_raises_only_chunk_error(tmp_path_factory, real_chunk, steps, compress):
    data = real_chunk
    if compress:
        data = _mutate(gzip.compress(data), steps)
    else:
        data = _mutate(data, steps)
    path = tmp_path_factory.mktemp("fuzz") / "mutated.gz"
    path.write_bytes(data)
    try:
        strict = read_chunk(path)
    except ChunkError as error:
        assert str(error).startswith(f"{path}: record {error.record} (line {error.line}): ")
        strict = None
    lenient = read_chunk(path, on_error="skip")  # skip mode never raises
    if strict is not None:
        assert lenient.bad_records == 0
        assert np.array_equal(strict.positions.planes, lenient.positions.planes)
    else:
        assert lenient.errors
    # The vectorised check and the readable reference check (_explain) agree on every error.
    assert not any("record failed validation" in message for message in lenient.errors)
    positions = lenient.positions
    assert positions.planes.shape[1:] == (16, 361)
    assert set(np.unique(positions.planes)) <= {0, 1}
    assert np.all(np.abs(positions.policy.sum(axis=1) - 1) <= 1e-3)
    assert set(np.unique(positions.winner)) <= {-1, 1}
