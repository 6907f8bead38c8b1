"""The training data stream: persistent workers across data epochs, and validation held out by
position when there are too few files to hold out whole ones."""

import pytest

from tests.train.chunks import write_chunks
from zeroforge.data.files import whole_files_to_hold_out
from zeroforge.formats.chunks import read_chunk
from zeroforge.train.datamodule import STREAM_KEY, TrainDataModule
from zeroforge.train.go_game import GoGame

DATA = {
    "val": None,
    "val_fraction": 0.2,
    "batch_size": 16,
    "sample_rate": 1.0,
    "shuffle_buffer": 64,
    "symmetries": True,
    "workers": 0,
}


def fingerprints(batches) -> list[bytes]:
    return [b["planes"].numpy().tobytes() + b["policy"].numpy().tobytes() for b in batches]


def take(stream, n):
    out = []
    for batch in stream:
        out.append(batch)
        if len(out) == n:
            return out


def test_persistent_workers_see_each_new_data_epoch(tmp_path):
    chunks = write_chunks(tmp_path, files=2, positions=40)  # 5 batches of 16 per data epoch
    module = TrainDataModule({**DATA, "train": str(chunks), "val_fraction": 0}, seed=3, game=GoGame)
    module.setup("fit")
    inline = module.train_dataloader()
    module.cfg = {**module.cfg, "workers": 1}
    worker = module.train_dataloader()
    first = take(inline, 12)
    assert [b[STREAM_KEY] for b in first][4:7] == [(0, 4), (1, 0), (1, 1)]
    second = take(worker, 12)
    assert fingerprints(first) == fingerprints(second)  # the worker read epochs 1 and 2 too
    assert fingerprints(first[:5]) != fingerprints(first[5:10])  # and they differ
    loader = worker.loader()
    assert loader.persistent_workers and worker.loader() is loader


@pytest.mark.parametrize("files, fraction, whole", [(1, 0.05, 0), (2, 0.05, 0), (7, 0.15, 1)])
def test_whole_files_are_held_out_only_when_there_are_enough(files, fraction, whole):
    assert whole_files_to_hold_out(files, fraction) == whole


def positions(batches) -> set[bytes]:
    return {b["planes"][i, :16].numpy().tobytes() for b in batches for i in range(len(b["z"]))}


def test_one_file_holds_out_the_tail_of_its_positions(tmp_path):
    chunks = write_chunks(tmp_path, files=1, positions=100)
    module = TrainDataModule(
        {**DATA, "train": str(chunks), "symmetries": False}, seed=0, game=GoGame
    )
    module.setup("fit")
    assert module.train_files == module.val_files == [str(chunks / "train.0.gz")]
    stored = read_chunk(chunks / "train.0.gz").positions.planes.reshape(100, 16, 19, 19)
    in_order = [stored[i].tobytes() for i in range(100)]
    train = take(module.train_dataloader(), 5)  # one data epoch: 80 positions, 5 batches
    assert [b[STREAM_KEY] for b in train] == [(0, i) for i in range(5)]
    assert positions(train) == set(in_order[:80])
    val = list(module.val_dataloader())
    assert [len(b["z"]) for b in val] == [16, 4]
    assert positions(val) == set(in_order[80:])


def test_a_tiny_data_set_still_makes_a_batch(tmp_path):
    chunks = write_chunks(tmp_path, files=1, positions=30)  # 24 training positions < 32
    module = TrainDataModule({**DATA, "train": str(chunks), "batch_size": 32}, seed=0, game=GoGame)
    module.setup("fit")
    batches = take(module.train_dataloader(), 2)
    assert [len(b["z"]) for b in batches] == [24, 24]


def test_the_log_says_how_each_game_holds_out_positions_of_one_file(caplog):
    import logging

    from zeroforge.train.chess_game import ChessGame

    caplog.set_level(logging.INFO)
    sample = "data/sample/chess/sf15-d6.binpack"
    train, val = TrainDataModule({**DATA, "train": sample}, seed=0, game=ChessGame).files()
    assert train == val == [sample]
    assert "validation: 20% of the positions, in blocks of 256 chosen by a hash, of each" in (
        caplog.text
    )
