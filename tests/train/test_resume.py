"""Stopping and resuming from a checkpoint trains exactly as an uninterrupted run."""

import csv

import torch

from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import main

# LR falls linearly to 0 at step 12 (absolute steps: both halves of the split run see the same
# schedule), so a resumed run with a reset scheduler would show a different loss.
SCHEDULE = "schedule.segments=[{kind:linear,until:12,from:1.0,to:0.0}]"


def losses(run) -> dict[int, str]:
    with open(run / "metrics.csv") as handle:
        return {int(r["step"]): r["loss"] for r in csv.DictReader(handle) if r["loss"]}


def net_weights(run) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    return checkpoint["state_dict"]


def test_resume_equals_uninterrupted_run(tmp_path):
    # 4 files x 100 positions at batch 32: 12 batches per data epoch (drop_last), so the
    # 12 steps cross no epoch; a second test below crosses one.
    chunks = write_chunks(tmp_path / "chunks", files=4, positions=100)
    extra = (SCHEDULE, "optim.lr=0.05", "train.checkpoint_every=5", "train.export_every=0")
    assert main(train_args(chunks, tmp_path / "whole", 12, *extra)) == 0
    assert main(train_args(chunks, tmp_path / "split", 5, *extra)) == 0
    with open(tmp_path / "split" / "metrics.csv", "a") as handle:
        handle.write("6,0,192,5.9\n7,0,224,5.")  # rows past the checkpoint, torn by a crash
    resume = f"resume={tmp_path / 'split' / 'checkpoints' / 'last.ckpt'}"
    assert main(train_args(chunks, tmp_path / "split", 12, *extra, resume)) == 0

    whole, split = losses(tmp_path / "whole"), losses(tmp_path / "split")
    assert sorted(split) == list(range(1, 13))  # rows past the checkpoint were dropped
    assert split == whole
    a, b = net_weights(tmp_path / "whole"), net_weights(tmp_path / "split")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_across_a_data_epoch(tmp_path):
    # 2 files x 100 positions: 6 batches per data epoch; stop at 8 (epoch 1, batch 2).
    chunks = write_chunks(tmp_path / "chunks", files=2, positions=100)
    extra = ("schedule=flat", "averaging=none", "train.checkpoint_every=8", "train.export_every=0")
    assert main(train_args(chunks, tmp_path / "whole", 11, *extra)) == 0
    assert main(train_args(chunks, tmp_path / "split", 8, *extra)) == 0
    resume = f"resume={tmp_path / 'split' / 'checkpoints' / 'last.ckpt'}"
    assert main(train_args(chunks, tmp_path / "split", 11, *extra, resume)) == 0
    assert losses(tmp_path / "split") == losses(tmp_path / "whole")
    with open(tmp_path / "split" / "metrics.csv") as handle:
        epochs = {int(r["step"]): int(r["epoch"]) for r in csv.DictReader(handle)}
    assert [epochs[s] for s in (1, 6, 7, 11)] == [0, 0, 1, 1]  # passes over the data
