"""Packed binary shards: round trips, damage named by file, pack from chunks + dump_debug, and
the dataset reading shards and chunks alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroforge.commands import data as data_command
from zeroforge.commands.pack import pack_files
from zeroforge.data.files import file_kind
from zeroforge.formats.chunks import write_chunk
from zeroforge.formats.lzdebug import SearchValues, debug_path_for, write_debug
from zeroforge.formats.shards import (
    FIXED_HEADER,
    HEADER_ALIGN,
    Shard,
    ShardError,
    read_records,
    read_shard,
    read_shard_records,
    shard_fields,
    write_shard,
)


def _values(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, n).astype(np.float32), rng.uniform(-1, 1, n).astype(np.float32)


def test_round_trip_float32_is_exact(tmp_path, random_positions):
    positions = random_positions(37, seed=1)
    q, net = _values(37, 2)
    path = tmp_path / "a.zfs"
    write_shard(path, Shard(positions, q, net), policy_dtype="float32")
    back = read_shard(path)
    for name in ("planes", "side_to_move", "policy", "winner"):
        got, want = getattr(back.positions, name), getattr(positions, name)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert np.array_equal(back.q, q) and np.array_equal(back.net_value, net)
    assert shard_fields(path) == ("planes", "side_to_move", "winner", "policy", "q", "net_value")
    assert (path.stat().st_size - len(positions) * 2194) % HEADER_ALIGN == 0


def test_float16_policy_and_optional_fields(tmp_path, random_positions):
    positions = random_positions(50, seed=3)
    path = tmp_path / "b.zfs"
    write_shard(path, Shard(positions), policy_dtype="float16")
    back = read_shard(path)
    assert back.q is None and back.net_value is None
    assert back.positions.policy.dtype == np.float32
    np.testing.assert_allclose(back.positions.policy, positions.policy, rtol=2**-11, atol=1e-7)
    assert np.abs(back.positions.policy.sum(axis=1) - 1).max() < 1e-3
    assert np.array_equal(back.positions.planes, positions.planes)
    mapped = read_records(path, mmap=True)
    assert len(mapped) == 50 and "q" not in mapped.dtype.names
    assert mapped.dtype.itemsize == 1462 and mapped["policy"].dtype == np.float16


def test_empty_shard(tmp_path, random_positions):
    path = tmp_path / "empty.zfs"
    write_shard(path, Shard(random_positions(0)))
    assert len(read_shard(path)) == 0


def _good_shard(tmp_path, random_positions, n=10):
    path = tmp_path / "good.zfs"
    write_shard(path, Shard(random_positions(n, seed=5), *_values(n, 6)))
    return path


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b"NOTSHARD" + b[8:], "bad magic"),
        (lambda b: b[:8] + (7).to_bytes(4, "little") + b[12:], "version 7"),
        (lambda b: b[:-100], "truncated or padded; 9 whole records"),
        (lambda b: b + b"\0", "truncated or padded; 10 whole records"),
        (lambda b: b[:20], "bad magic|truncated"),
        (lambda b: b.replace(b'"policy","<f4"', b'"policy","<f8"'), "field 'policy'"),
        (lambda b: b.replace(b'"q"', b'"x"'), "field 'x'"),
    ],
)
def test_damage_names_the_file(tmp_path, random_positions, damage, message):
    good = _good_shard(tmp_path, random_positions)
    bad = tmp_path / "bad.zfs"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(ShardError, match=message) as info:
        read_shard(bad)
    assert str(bad) in str(info.value)


def test_bad_values_and_skipping(tmp_path, random_positions):
    good = _good_shard(tmp_path, random_positions)
    data = bytearray(good.read_bytes())
    header = int.from_bytes(data[12:16], "little")
    record = int.from_bytes(data[16:20], "little")
    data[header + 3 * record + 736] = 7  # record 3: side to move
    bad = tmp_path / "values.zfs"
    bad.write_bytes(bytes(data[:-5]))  # and cut short
    with pytest.raises(ShardError, match="record 3"):
        read_shard_records(bad, "raise")
    records, dropped, errors = read_shard_records(bad, "skip")
    assert len(records["winner"]) == 8 and dropped == 2 and len(errors) == 2
    assert records["planes"].shape == (8, 16, 46) and records["q"].dtype == np.float32


def test_writer_rejects_out_of_range_q(tmp_path, random_positions):
    with pytest.raises(ValueError, match="record 1"):
        write_shard(tmp_path / "x.zfs", Shard(random_positions(3), np.array([0, 2, 0])))
    positions = random_positions(4)
    positions.policy[2, 0] = -0.1
    with pytest.raises(ValueError, match="record 2"):
        write_shard(tmp_path / "y.zfs", Shard(positions))
    assert not list(tmp_path.iterdir())
    assert FIXED_HEADER.size == 32


def _selfplay_like(tmp_path, random_positions, games: int, with_debug: bool):
    """chunks/NAME.gz (+ debug/NAME.debug) as `zeroforge selfplay` writes them."""
    (tmp_path / "chunks").mkdir(parents=True)
    (tmp_path / "debug").mkdir()
    expected = []
    for g in range(games):
        positions = random_positions(20 + g, seed=10 + g)
        chunk = tmp_path / "chunks" / f"game-s{g}.gz"
        write_chunk(chunk, positions)
        rng = np.random.default_rng(g)
        winrates = rng.uniform(0, 1, (len(positions), 2)).astype(np.float32)
        values = SearchValues(
            winrates[:, 0], winrates[:, 1], winrates[:, 1], np.ones(len(positions), np.int64), 1
        )
        if with_debug:
            write_debug(debug_path_for(chunk), values)
        expected.append((positions, values))
    return expected


def test_pack_round_trip_with_q(tmp_path, random_positions):
    expected = _selfplay_like(tmp_path / "sp", random_positions, games=3, with_debug=True)
    written, records, with_q = pack_files([str(tmp_path / "sp")], tmp_path / "out", 40, "float32")
    assert records == with_q == 20 + 21 + 22 and len(written) == 2  # 40 + 23 records
    back = [read_shard(p) for p in written]
    q = np.concatenate([b.q for b in back])
    net = np.concatenate([b.net_value for b in back])
    planes = np.concatenate([b.positions.planes for b in back])
    # Inputs are packed in sorted path order: game-s0, game-s1, game-s2.
    want_q = np.concatenate([2 * v.root_winrate - 1 for _, v in expected])
    want_net = np.concatenate([2 * v.net_winrate - 1 for _, v in expected])
    np.testing.assert_allclose(q, want_q, atol=1e-5)  # %g keeps 6 digits in the debug file
    np.testing.assert_allclose(net, want_net, atol=1e-5)
    assert np.array_equal(planes, np.concatenate([p.planes for p, _ in expected]))
    assert file_kind(str(written[0])).name == "shard"


def test_pack_mismatched_debug_is_an_error(tmp_path, random_positions):
    _selfplay_like(tmp_path / "sp", random_positions, games=1, with_debug=True)
    debug = tmp_path / "sp" / "debug" / "game-s0.debug"
    short = SearchValues(*(np.full(3, 0.5, np.float32) for _ in range(3)), np.ones(3, np.int64))
    write_debug(debug, short)
    assert data_command.main(["pack", str(tmp_path / "sp"), str(tmp_path / "out")]) == 1


def test_pack_command_and_dataset_reads_shards_with_q(tmp_path, random_positions, capsys):
    from zeroforge.data.dataset import GoDataset

    _selfplay_like(tmp_path / "sp", random_positions, games=2, with_debug=True)
    _selfplay_like(tmp_path / "plain", random_positions, games=1, with_debug=False)
    out = tmp_path / "shards"
    argv = ["pack", str(tmp_path / "sp"), str(tmp_path / "plain"), str(out)]
    assert data_command.main(argv) == 0
    assert "61 positions (41 with q) -> 2 shards" in capsys.readouterr().out
    assert data_command.main(argv) == 1  # would overwrite: refused
    batches = list(GoDataset(sorted(out.glob("shard-q-*.zfs")), batch_size=16, seed=1))
    assert sum(len(b["z"]) for b in batches) == 41
    assert all("q" in b and b["q"].abs().max() <= 1 for b in batches)
    assert batches[0]["planes"].shape[1:] == (18, 19, 19)
    plain = list(GoDataset(sorted(out.glob("shard-0*.zfs")), batch_size=16))
    assert sum(len(b["z"]) for b in plain) == 20 and "q" not in plain[0]
    assert data_command.main(["inspect", str(out)]) == 0
    assert "with q          41" in capsys.readouterr().out


def test_nan_or_negative_policy_is_named(tmp_path, random_positions):
    good = _good_shard(tmp_path, random_positions)
    data = bytearray(good.read_bytes())
    header = int.from_bytes(data[12:16], "little")
    record = int.from_bytes(data[16:20], "little")
    policy_at = header + 6 * record + 738  # record 6: planes 736, side, winner, then policy
    data[policy_at : policy_at + 4] = np.float32("nan").tobytes()
    bad = tmp_path / "nan.zfs"
    bad.write_bytes(bytes(data))
    with pytest.raises(ShardError, match=f"{bad}: record 6"):
        read_shard(bad)
    data[policy_at : policy_at + 4] = np.float32(-0.5).tobytes()
    bad.write_bytes(bytes(data))
    with pytest.raises(ShardError, match="record 6"):
        read_shard_records(bad)


def test_q_target_from_shards_and_clear_error_without_q(tmp_path, random_positions):
    """A config asking for q: shards with q feed it, text chunks fail naming the data."""
    from zeroforge.data.dataset import GoDataset
    from zeroforge.train.targets import MissingQError, ValueTarget

    _selfplay_like(tmp_path / "sp", random_positions, games=1, with_debug=True)
    pack_files([str(tmp_path / "sp")], tmp_path / "shards")
    shards = str(tmp_path / "shards")
    batch = next(iter(GoDataset(shards, batch_size=8, symmetries=False)))
    target, ratio = ValueTarget({"q_ratio": 1.0}, 10, shards)(batch, step=0)
    assert ratio == 1.0 and torch.equal(target, batch["q"])
    chunks = str(tmp_path / "sp" / "chunks")
    plain = next(iter(GoDataset(chunks, batch_size=8)))
    with pytest.raises(MissingQError, match="chunks"):
        ValueTarget({"q_ratio": 0.5}, 10, chunks)(plain, step=0)


def test_dataset_refuses_to_mix_data_with_and_without_q(tmp_path, random_positions):
    from zeroforge.data.dataset import GoDataset

    _selfplay_like(tmp_path / "sp", random_positions, games=1, with_debug=True)
    shards, _, _ = pack_files([str(tmp_path / "sp")], tmp_path / "out", 40, "float32")
    plain = tmp_path / "plain.gz"
    write_chunk(plain, random_positions(30, seed=3))
    dataset = GoDataset([str(shards[0]), str(plain)], batch_size=8, shuffle_buffer=8, seed=0)
    with pytest.raises(ValueError, match="carries q or none") as error:
        list(dataset)
    assert "plain.gz" in str(error.value) and shards[0].name in str(error.value)


def _targets(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ownership = rng.integers(-1, 2, (n, 361)).astype(np.int8)
    return ownership, rng.uniform(-80, 80, n).astype(np.float32)


def test_ownership_and_score_round_trip_and_reach_the_reader(tmp_path, random_positions):
    positions = random_positions(21, seed=3)
    ownership, score = _targets(21, 4)
    path = tmp_path / "own.zfs"
    write_shard(path, Shard(positions, ownership=ownership, score=score))
    back = read_shard(path)
    assert back.q is None and np.array_equal(back.ownership, ownership)
    assert back.ownership.dtype == np.int8 and np.array_equal(back.score, score)
    assert shard_fields(path)[-2:] == ("ownership", "score")
    records, bad, errors = read_shard_records(path)
    assert bad == 0 and not errors and np.array_equal(records["ownership"], ownership)
    assert np.array_equal(records["score"], score)


@pytest.mark.parametrize("field, value", [("ownership", 2), ("score", 500.0), ("score", np.nan)])
def test_writer_rejects_out_of_range_ownership_or_score(tmp_path, random_positions, field, value):
    positions = random_positions(5, seed=5)
    ownership, score = _targets(5, 6)
    (ownership if field == "ownership" else score)[3] = value
    with pytest.raises(
        ValueError, match="record 3: .*ownership, score or a teacher field out of range"
    ):
        write_shard(tmp_path / "bad.zfs", Shard(positions, ownership=ownership, score=score))
    assert not (tmp_path / "bad.zfs").exists()


def _teacher(n: int, seed: int) -> dict[str, np.ndarray]:
    """Teacher fields as `sgf2chunks --shards` writes them: every third position unjudged, the
    others with 0-10 candidates (best first, -1 after the last)."""
    from zeroforge.formats.shards import no_teacher

    rng = np.random.default_rng(seed)
    fields = no_teacher(n)
    for i in range(n):
        if i % 3 == 0:
            continue
        k = int(rng.integers(0, 11))
        fields["has_teacher"][i] = 1
        fields["teacher_moves"][i, :k] = rng.choice(361, size=k, replace=False)
        fields["teacher_values"][i, :k] = np.sort(rng.uniform(0.01, 80, k))[::-1]
        fields["teacher_score"][i] = rng.uniform(-60, 60)
    return fields


def test_teacher_fields_round_trip_and_reach_the_reader(tmp_path, random_positions):
    from zeroforge.formats.shards import TEACHER_FIELDS

    positions = random_positions(17, seed=7)
    ownership, score = _targets(17, 8)
    teacher = _teacher(17, 9)
    path = tmp_path / "teacher.zfs"
    write_shard(path, Shard(positions, ownership=ownership, score=score, **teacher))
    assert shard_fields(path)[-4:] == TEACHER_FIELDS
    back = read_shard(path)
    records, bad, errors = read_shard_records(path)
    assert bad == 0 and not errors
    for name, values in teacher.items():
        assert getattr(back, name).dtype == values.dtype
        assert np.array_equal(getattr(back, name), values) and np.array_equal(records[name], values)
    assert np.array_equal(back.score, score)  # the fields before them are where they were
    old = tmp_path / "old.zfs"  # a shard of before the teacher fields: read as it was
    write_shard(old, Shard(positions, ownership=ownership, score=score))
    assert read_shard(old).has_teacher is None and "has_teacher" not in read_shard_records(old)[0]


@pytest.mark.parametrize(
    "field, row, value",
    [("teacher_moves", 4, 362), ("teacher_moves", 2, -2), ("teacher_values", 1, -1.0),
     ("teacher_score", 5, np.nan), ("has_teacher", 2, 2)],
)  # fmt: skip
def test_writer_rejects_out_of_range_teacher_fields(tmp_path, random_positions, field, row, value):
    positions = random_positions(6, seed=5)
    teacher = _teacher(6, 6)
    teacher[field][row] = value
    with pytest.raises(ValueError, match=f"record {row}: .*teacher field out of range"):
        write_shard(tmp_path / "bad.zfs", Shard(positions, **teacher))
    assert not (tmp_path / "bad.zfs").exists()


def test_teacher_fields_come_together(tmp_path, random_positions):
    from zeroforge.formats.shards import make_records, write_records

    positions = random_positions(3, seed=1)
    teacher = _teacher(3, 2)
    del teacher["teacher_score"]
    with pytest.raises(ValueError, match="come together"):
        write_shard(tmp_path / "part.zfs", Shard(positions, **teacher))
    # a file written some other way with part of them is refused by name
    arrays = {"planes": np.zeros((3, 16, 46), np.uint8), "side_to_move": positions.side_to_move,
              "winner": positions.winner, "policy": positions.policy}  # fmt: skip
    records = make_records(arrays)
    extra = np.zeros(3, dtype=[*records.dtype.descr, ("has_teacher", "|u1")])
    for name in records.dtype.names:
        extra[name] = records[name]
    write_records(tmp_path / "odd.zfs", extra)
    with pytest.raises(ShardError, match="odd.zfs: .*not all"):
        read_shard(tmp_path / "odd.zfs")
