"""Stopping and resuming from a checkpoint trains exactly as an uninterrupted run."""

import csv

import lightning.pytorch as pl
import pytest
import torch

from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import compose_config, main
from zeroforge.nn.checkpoint import CHECKPOINT_KEY
from zeroforge.train.recipe import run

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


class Crash(pl.Callback):
    """Stops a run as a kill would: an error after step `step`, no checkpoint saved for it."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise KeyError("killed")


def test_rerun_of_an_interrupted_run_continues_it(tmp_path):
    """The same command again resumes the run in out_dir: metrics.csv keeps its rows (to the
    checkpoint), checkpoints/ gets no last-v1.ckpt, and the result equals an uninterrupted run."""
    chunks = write_chunks(tmp_path / "chunks", files=4, positions=100)
    extra = (SCHEDULE, "optim.lr=0.05", "train.checkpoint_every=5", "train.export_every=0")
    assert main(train_args(chunks, tmp_path / "whole", 12, *extra)) == 0
    args = train_args(chunks, tmp_path / "split", 12, *extra)
    with pytest.raises(KeyError):
        run(compose_config(args), [Crash(7)])
    with open(tmp_path / "split" / "metrics.csv") as handle:
        first_rows = handle.read().splitlines()[1:6]  # steps 1-5, with their samples/s
    assert main(args) == 0
    with open(tmp_path / "split" / "metrics.csv") as handle:
        assert handle.read().splitlines()[1:6] == first_rows
    assert losses(tmp_path / "split") == losses(tmp_path / "whole")
    assert sorted(p.name for p in (tmp_path / "split" / "checkpoints").iterdir()) == [
        "last.ckpt",
        "step-0000005.ckpt",
        "step-0000010.ckpt",
    ]
    a, b = net_weights(tmp_path / "whole"), net_weights(tmp_path / "split")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_rerun_with_another_config_is_refused(tmp_path, capsys):
    chunks = write_chunks(tmp_path / "chunks", files=1, positions=100)
    extra = ("train.checkpoint_every=2", "train.export_every=0")
    assert main(train_args(chunks, tmp_path / "run", 2, *extra)) == 0
    metrics = (tmp_path / "run" / "metrics.csv").read_text()
    assert main(train_args(chunks, tmp_path / "run", 4, *extra, "optim.lr=0.5")) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "optim.lr=0.01 there, 0.5 now" in err and "resume=" in err and "fresh out_dir" in err
    assert (tmp_path / "run" / "metrics.csv").read_text() == metrics
    # a longer run of the same config continues it
    assert main(train_args(chunks, tmp_path / "run", 4, *extra)) == 0
    assert sorted(losses(tmp_path / "run")) == [1, 2, 3, 4]
    assert (tmp_path / "run" / "metrics.csv").read_text().startswith(metrics)


def test_resume_refuses_a_checkpoint_version_it_cannot_read(tmp_path, capsys):
    chunks = write_chunks(tmp_path / "chunks", files=1, positions=100)
    extra = ("train.checkpoint_every=2", "train.export_every=0")
    assert main(train_args(chunks, tmp_path / "run", 2, *extra)) == 0
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint[CHECKPOINT_KEY]["format_version"] == 1
    assert "data" not in checkpoint["hyper_parameters"]["config"]  # no data paths in checkpoints
    checkpoint[CHECKPOINT_KEY]["format_version"] = 2
    future = tmp_path / "future.ckpt"
    torch.save(checkpoint, future)
    assert main(train_args(chunks, tmp_path / "run2", 4, *extra, f"resume={future}")) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{future}: checkpoint format_version 2" in err


def test_resume_from_a_damaged_checkpoint_names_it(tmp_path, capsys):
    chunks = write_chunks(tmp_path / "chunks", files=1, positions=100)
    assert main(train_args(chunks, tmp_path / "run", 2, "train.checkpoint_every=2")) == 0
    whole = (tmp_path / "run" / "checkpoints" / "last.ckpt").read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(whole[: len(whole) // 2])
    assert main(train_args(chunks, tmp_path / "other", 4, f"resume={cut}")) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"zeroforge train: {cut}: not a readable checkpoint")
