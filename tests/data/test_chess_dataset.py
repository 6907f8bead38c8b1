"""The NNUE training dataset: batch layout, skip filters and their counts, sharding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroforge.chess.records import VALUE_NONE
from zeroforge.data.chess_dataset import ChessDataset, SkipFilters, count_filtered
from zeroforge.data.chess_decoder import read_decoded
from zeroforge.formats.binpack import write_binpack
from zeroforge.formats.plain import write_plain
from zeroforge.formats.sfbin import write_bin

from ..chess.games import games

NO_FILTERS = SkipFilters(value_none=False, in_check=False, captures=False)


@pytest.fixture(scope="module")
def chess_files(tmp_path_factory):
    """Three .binpack files of 2 chunks each, a .bin and a .plain file."""
    root = tmp_path_factory.mktemp("chess")
    for i in range(3):
        parts = []
        for half in range(2):
            write_binpack(root / "part.binpack", games(seed=10 * i + half, count=8))
            parts.append((root / "part.binpack").read_bytes())
        (root / f"g{i}.binpack").write_bytes(b"".join(parts))
    (root / "part.binpack").unlink()
    write_bin(root / "g.bin", games(seed=40, count=6))
    write_plain(root / "g.plain", games(seed=41, count=6))
    return root


def _key(us, them, ply, score):
    return (tuple(sorted(us.tolist())), tuple(sorted(them.tolist())), int(ply), int(score))


def _all_keys(paths) -> list:
    rows = np.concatenate([read_decoded(p) for p in paths])
    return sorted(_key(r["us"], r["them"], r["ply"], r["score"]) for r in rows)


def _batch_keys(batches) -> list:
    return sorted(
        _key(b["us"][i], b["them"][i], b["ply"][i], b["score"][i])
        for b in batches
        for i in range(len(b["ply"]))
    )


def test_batch_layout(chess_files):
    data = ChessDataset(chess_files / "g0.binpack", batch_size=64, filters=NO_FILTERS)
    batch = next(iter(data))
    types = {key: (value.dtype, tuple(value.shape)) for key, value in batch.items()}
    assert types == {
        "us": (torch.int32, (64, 32)),
        "them": (torch.int32, (64, 32)),
        "stm": (torch.int64, (64,)),
        "score": (torch.float32, (64,)),
        "result": (torch.float32, (64,)),
        "bucket": (torch.int64, (64,)),
        "ply": (torch.int32, (64,)),
    }
    active = batch["us"] >= 0
    assert torch.equal(active, batch["them"] >= 0)  # both sides see every piece
    pieces = active.sum(1)
    assert torch.equal(batch["bucket"], (pieces - 1) // 4)
    assert active[:, 0].all() and not (active[:, 1:] & ~active[:, :-1]).any()  # -1 pads the end
    assert set(batch["result"].tolist()) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize("shard_by", ["file", "position"])
def test_every_position_once_over_ranks_and_formats(chess_files, shard_by):
    files = sorted(str(p) for p in chess_files.iterdir())
    batches = []
    for rank in range(2):
        data = ChessDataset(
            chess_files, batch_size=50, filters=NO_FILTERS, world_size=2, rank=rank,
            shard_by=shard_by, shuffle_buffer=300,
        )  # fmt: skip
        batches += list(data)
    assert _batch_keys(batches) == _all_keys(files)


def test_filters_skip_and_count(chess_files):
    path = chess_files / "g1.binpack"
    rows = read_decoded(path)
    filters = SkipFilters(min_ply=20)
    counts = count_filtered(path, filters)
    value_none = rows["score"] == VALUE_NONE
    check, capture = (rows["flags"] & 1) != 0, (rows["flags"] & 2) != 0
    early = rows["ply"] < 20
    assert counts.as_dict() == {
        "seen": len(rows),
        "kept": int((~(value_none | check | capture | early)).sum()),
        "value_none": int(value_none.sum()),
        "in_check": int(check.sum()),
        "captures": int(capture.sum()),
        "early": int(early.sum()),
    }
    assert counts.value_none and counts.in_check and counts.captures and counts.early
    data = ChessDataset(path, batch_size=32, filters=filters)
    batches = list(data)
    assert sum(len(b["ply"]) for b in batches) == counts.kept == data.counts.kept
    assert all((b["score"] != VALUE_NONE).all() and (b["ply"] >= 20).all() for b in batches)


def test_sampling_and_epochs_are_reproducible(chess_files):
    def epoch_keys(epoch):
        data = ChessDataset(chess_files, batch_size=40, sample_rate=0.5, seed=3)
        data.set_epoch(epoch)
        return _batch_keys(list(data))

    first = epoch_keys(0)
    assert first == epoch_keys(0) and first != epoch_keys(1)


def test_fixed_batches_per_epoch(chess_files):
    data = ChessDataset(chess_files / "g2.binpack", batch_size=64, batches_per_epoch=30)
    batches = list(data)
    assert len(batches) == 30 and all(len(b["ply"]) == 64 for b in batches)


def test_sampling_does_not_depend_on_sharding(chess_files):
    def keys(world_size, shard_by="auto"):
        batches = []
        for rank in range(world_size):
            data = ChessDataset(
                chess_files, batch_size=40, sample_rate=0.5, seed=3, world_size=world_size,
                rank=rank, shard_by=shard_by, filters=NO_FILTERS,
            )  # fmt: skip
            batches += list(data)
        return _batch_keys(batches)

    alone = keys(1)
    assert alone == keys(2, "position") == keys(3, "file")
    assert 0.3 < len(alone) / len(_all_keys(chess_files.iterdir())) < 0.7


def test_position_range_splits_the_positions_in_two(chess_files):
    def keys(position_range):
        data = ChessDataset(
            chess_files / "g0.binpack", batch_size=32, filters=NO_FILTERS,
            position_range=position_range,
        )  # fmt: skip
        return _batch_keys(list(data))

    train, val = keys((0.0, 0.5)), keys((0.5, 1.0))
    assert sorted(train + val) == _all_keys([chess_files / "g0.binpack"])
    assert train and val
