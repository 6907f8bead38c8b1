from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tests.conftest import make_positions
from zeroforge.data import files
from zeroforge.data.dataset import GoDataset, expand_paths, split_files
from zeroforge.data.stream import ShuffleBuffer
from zeroforge.formats.chunks import pack_planes, read_chunk, write_chunk
from zeroforge.go.geometry import NUM_POINTS, transform_moves


def _write_files(folder, sizes, seed=0):
    paths = []
    for i, n in enumerate(sizes):
        path = folder / f"game-{i:03d}.0.gz"
        write_chunk(path, make_positions(n, seed=seed + i))
        paths.append(path)
    return paths


def _fingerprints(batches):
    """Position identities (stones + policy) of un-augmented batches."""
    out = []
    for batch in batches:
        planes = batch["planes"].numpy()
        policy = batch["policy"].numpy()
        out += [planes[i, :16].tobytes() + policy[i].tobytes() for i in range(len(planes))]
    return out


def _all_fingerprints(paths):
    out = []
    for path in paths:
        p = read_chunk(path).positions
        planes = p.planes.reshape(-1, 16, 19, 19)
        out += [planes[i].tobytes() + p.policy[i].tobytes() for i in range(len(p))]
    return out


def test_expand_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.0.gz", "a/b/y.1.gz", "a/notes.txt", "a/.hidden.gz", "z.gz"):
        (tmp_path / name).write_bytes(b"")
    a = str(tmp_path / "a")
    assert expand_paths([a]) == [f"{a}/b/y.1.gz", f"{a}/x.0.gz"]
    assert expand_paths(str(tmp_path / "**" / "*.gz")) == [
        f"{a}/b/y.1.gz",
        f"{a}/x.0.gz",
        str(tmp_path / "z.gz"),
    ]
    assert expand_paths([f"{a}/notes.txt", f"{a}/notes.txt"]) == [f"{a}/notes.txt"]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        expand_paths([a, str(tmp_path / "nothing*.gz")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no data files"):
        expand_paths(tmp_path / "empty")


def test_split_files(tmp_path):
    paths = _write_files(tmp_path, [2] * 10)
    train, val = split_files(tmp_path, 0.2, seed=1)
    assert len(val) == 2 and len(train) == 8 and not set(train) & set(val)
    assert sorted(train + val) == sorted(map(str, paths))
    assert split_files(tmp_path, 0.2, seed=1) == (train, val)
    assert split_files(tmp_path, 0.0) == (sorted(map(str, paths)), [])
    with pytest.raises(ValueError, match="keep some for training"):
        split_files(paths[0], 0.1)


def test_batch_shapes_types_and_side_planes(tmp_path):
    _write_files(tmp_path, [100, 57])
    batches = list(GoDataset(tmp_path, batch_size=32, shuffle_buffer=64))
    assert [len(b["z"]) for b in batches] == [32] * 4 + [29]
    for batch in batches:
        assert set(batch) == {"planes", "policy", "z"}
        assert batch["planes"].dtype == torch.uint8 and batch["planes"].shape[1:] == (18, 19, 19)
        assert batch["policy"].dtype == torch.float32 and batch["policy"].shape[1] == 362
        assert batch["z"].dtype == torch.float32 and set(batch["z"].tolist()) <= {-1.0, 1.0}
        assert torch.all(batch["planes"][:, 16] + batch["planes"][:, 17] == 1)
        assert torch.all(
            batch["planes"][:, 16].flatten(1).min(1).values
            == batch["planes"][:, 16].flatten(1).max(1).values
        )
        assert torch.allclose(batch["policy"].sum(1), torch.ones(len(batch["z"])), atol=1e-3)
    dropped = list(GoDataset(tmp_path, batch_size=32, shuffle_buffer=64, drop_last=True))
    assert [len(b["z"]) for b in dropped] == [32] * 4


def test_symmetries_act_on_planes_and_policy_alike(tmp_path):
    n = 40
    positions = make_positions(n, seed=9)
    positions.planes[:, 0] = 0
    for i in range(n):  # plane 0 holds i+1 stones: a count no symmetry changes
        positions.planes[i, 0, : i + 1] = 1
    write_chunk(tmp_path / "sym.gz", positions)
    positions = read_chunk(tmp_path / "sym.gz").positions  # policy as printed (%g)
    seen = Counter()
    for epoch in range(4):
        data = GoDataset(tmp_path, batch_size=16, shuffle_buffer=8, seed=epoch)
        for batch in data:
            planes = batch["planes"].numpy().reshape(-1, 18, NUM_POINTS)
            policy = batch["policy"].numpy()
            for row in range(len(planes)):
                i = int(planes[row, 0].sum()) - 1
                found = [
                    s
                    for s in range(8)
                    if np.array_equal(transform_moves(positions.planes[i], s), planes[row, :16])
                ]
                assert found, "planes are no symmetry of the original"
                s = found[0]
                assert np.array_equal(transform_moves(positions.policy[i], s), policy[row])
                side = positions.side_to_move[i]
                assert planes[row, 16 + side].min() == 1 and planes[row, 17 - side].max() == 0
                assert batch["z"][row] == positions.winner[i]
                seen[s] += 1
    assert set(seen) == set(range(8))  # every symmetry is used
    plain = list(GoDataset(tmp_path, batch_size=16, symmetries=False))
    assert sorted(_fingerprints(plain)) == sorted(_all_fingerprints([tmp_path / "sym.gz"]))


@pytest.mark.parametrize(
    "sizes", [[301], [150, 211], [23] * 20], ids=["1file", "2files", "20files"]
)
@pytest.mark.parametrize("sample_rate", [1.0, 0.5])
def test_exactly_once_over_2_workers_x_2_ranks(tmp_path, sizes, sample_rate):
    paths = _write_files(tmp_path, sizes)
    options = dict(
        batch_size=16, sample_rate=sample_rate, shuffle_buffer=50, symmetries=False, seed=7
    )
    whole = _fingerprints(GoDataset(tmp_path, **options))
    if sample_rate == 1:
        assert sorted(whole) == sorted(_all_fingerprints(paths))
    else:
        assert 0.35 * sum(sizes) < len(whole) < 0.65 * sum(sizes)
    sharded = []
    for rank in range(2):
        data = GoDataset(tmp_path, world_size=2, rank=rank, **options)
        loader = DataLoader(data, batch_size=None, num_workers=2)
        sharded += _fingerprints(loader)
    assert len(sharded) == len(set(sharded)) == len(whole)  # nothing duplicated or lost
    assert sorted(sharded) == sorted(whole)


def test_batches_per_epoch_equal_on_every_rank(tmp_path):
    _write_files(tmp_path, [150, 61])
    for rank in range(2):
        data = GoDataset(
            tmp_path,
            batch_size=16,
            shuffle_buffer=40,
            world_size=2,
            rank=rank,
            batches_per_epoch=15,
        )
        sizes = [len(b["z"]) for b in DataLoader(data, batch_size=None, num_workers=2)]
        assert sizes == [16] * 15  # ~53 positions per worker: the data is gone round again
    with pytest.raises(RuntimeError, match="too little data"):
        list(GoDataset(tmp_path, batch_size=1000, batches_per_epoch=1))


def test_seeded_reproducible_and_new_each_epoch(tmp_path):
    _write_files(tmp_path, [80, 80, 80])

    def run(seed, epoch):
        data = GoDataset(tmp_path, batch_size=40, shuffle_buffer=100, seed=seed, sample_rate=0.8)
        data.set_epoch(epoch)
        return [(b["planes"].numpy().tobytes(), b["policy"].numpy().tobytes()) for b in data]

    assert run(1, 0) == run(1, 0)
    assert run(1, 0) != run(1, 1)
    assert run(1, 0) != run(2, 0)


def test_shuffle_buffer_returns_everything_once_within_capacity():
    rng = np.random.default_rng(0)
    buffer = ShuffleBuffer(100, rng)
    out = []
    for start in range(0, 1000, 70):
        ids = np.arange(start, min(start + 70, 1000))
        out += [p["id"] for p in buffer.push({"id": ids, "winner": ids})]
        assert buffer.size <= 100 and len(buffer.store["id"]) == 100
    out.append(buffer.drain()["id"])
    ids = np.concatenate(out)
    assert sorted(ids.tolist()) == list(range(1000))
    assert np.abs(np.diff(ids)).mean() > 50  # actually shuffled, not passed through


def test_a_second_file_kind_with_q(tmp_path, monkeypatch):
    def read_q(path):
        p = make_positions(20, seed=4)
        q = np.linspace(-1, 1, 20, dtype=np.float32)
        return {
            "planes": pack_planes(p.planes),
            "side_to_move": p.side_to_move,
            "policy": p.policy,
            "winner": p.winner,
            "q": q,
        }

    monkeypatch.setattr(files, "FILE_KINDS", list(files.FILE_KINDS))
    files.register_reader("qtest", (".qtest",), lambda path, on_error: (read_q(path), 0, []))
    (tmp_path / "x.qtest").write_bytes(b"")
    batches = list(GoDataset(tmp_path, batch_size=8))
    assert all(b["q"].dtype == torch.float32 for b in batches)
    q = torch.cat([b["q"] for b in batches]).sort().values
    assert torch.allclose(q, torch.linspace(-1, 1, 20))


def test_bad_options(tmp_path):
    _write_files(tmp_path, [3])
    for bad in (
        dict(batch_size=0),
        dict(sample_rate=0),
        dict(rank=2, world_size=2),
        dict(shard_by="rank"),
    ):
        with pytest.raises(ValueError):
            GoDataset(tmp_path, **{"batch_size": 4, **bad})


def test_symmetries_move_the_ownership_with_the_planes(tmp_path):
    """Ownership targets are board planes: every symmetry must move them as it moves the
    stones. Here each position's ownership is its own stones minus the opponent's (t = 0), so
    after augmentation it must still equal plane 0 minus plane 8 of the same batch row."""
    from zeroforge.formats.shards import Shard, write_shard

    n = 64
    positions = make_positions(n, seed=4)
    ownership = positions.planes[:, 0].astype(np.int8) - positions.planes[:, 8].astype(np.int8)
    ownership[positions.planes[:, 0].astype(bool) & positions.planes[:, 8].astype(bool)] = 0
    score = np.arange(n, dtype=np.float32)
    write_shard(tmp_path / "own.zfs", Shard(positions, ownership=ownership, score=score))
    seen = set()
    for epoch in range(3):
        data = GoDataset(tmp_path, batch_size=16, shuffle_buffer=8, seed=epoch)
        for batch in data:
            planes = batch["planes"].numpy().reshape(-1, 18, NUM_POINTS).astype(np.int8)
            expected = planes[:, 0] - planes[:, 8]
            expected[(planes[:, 0] == 1) & (planes[:, 8] == 1)] = 0
            assert batch["ownership"].dtype == torch.float32
            assert np.array_equal(batch["ownership"].numpy(), expected)
            for row, value in enumerate(batch["score"].numpy()):  # the score stays the row's
                i = int(value)
                found = [
                    s
                    for s in range(8)
                    if np.array_equal(transform_moves(positions.planes[i], s), planes[row, :16])
                ]
                assert found
                seen.add(found[0])
    assert len(seen) == 8


def test_symmetries_move_the_teacher_moves_as_the_policy(tmp_path):
    """The teacher's candidate moves are move indices: under every symmetry the first one
    must stay on the policy's move (here the same move), passes and padding unchanged."""
    from zeroforge.formats.shards import Shard, no_teacher, write_shard

    n = 64
    positions = make_positions(n, seed=5, soft=False)
    positions.policy[::5] = 0
    positions.policy[::5, NUM_POINTS] = 1.0  # some passes
    teacher = no_teacher(n)
    teacher["has_teacher"][:] = 1
    teacher["teacher_moves"][:, 0] = positions.policy.argmax(axis=1)
    teacher["teacher_values"][:, 0] = np.arange(n) + 1.0  # tells the row
    write_shard(tmp_path / "t.zfs", Shard(positions, **teacher))
    rows = 0
    for batch in GoDataset(tmp_path, batch_size=16, shuffle_buffer=8, seed=3):
        moves = batch["teacher_moves"]
        assert moves.dtype == torch.int64 and batch["teacher_values"].dtype == torch.float32
        assert torch.equal(moves[:, 0], batch["policy"].argmax(dim=1))
        assert torch.all(moves[:, 1:] == -1) and torch.all(batch["has_teacher"] == 1)
        rows += len(moves)
    assert rows == n
