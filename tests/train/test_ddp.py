"""Lightning DDP on 2 CPU processes (gloo): the ranks train on disjoint positions and end with
identical weights."""

import hashlib

import lightning.pytorch as pl
import pytest
import torch

from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import compose_config
from zeroforge.train.recipe import run


class RecordRanks(pl.Callback):
    """Each rank writes the positions it trained on (hashes) and its final weights to a file."""

    def __init__(self, directory):
        self.directory, self.seen = directory, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        for planes, policy in zip(batch["planes"], batch["policy"], strict=True):
            digest = hashlib.sha1(planes.numpy().tobytes() + policy.numpy().tobytes())
            self.seen.append(digest.hexdigest())

    def on_train_end(self, trainer, pl_module):
        # parameters only: BN running statistics are per rank (DDP broadcasts rank 0's buffers
        # before each forward, then each rank's own batch updates them)
        state = {k: v.detach().clone() for k, v in pl_module.net.named_parameters()}
        path = self.directory / f"rank{trainer.global_rank}.pt"
        torch.save({"seen": self.seen, "state": state}, path)


@pytest.mark.slow
def test_two_cpu_ranks_see_disjoint_data_and_agree(tmp_path):
    # 3 files x 64 positions, sharded by position over the 2 ranks: 96 positions each.
    chunks = write_chunks(tmp_path / "chunks", files=3, positions=64)
    args = train_args(chunks, tmp_path / "run", 4, "data.symmetries=false", "data.batch_size=16")
    args += ["train.strategy=ddp_spawn", "train.accelerator=cpu", "train.devices=2"]
    args += ["train.export_every=0", "train.checkpoint_every=2", "averaging=none"]
    run(compose_config(args), extra_callbacks=[RecordRanks(tmp_path)])

    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert len(rank0["seen"]) == len(rank1["seen"]) == 4 * 16
    assert not set(rank0["seen"]) & set(rank1["seen"])
    a, b = rank0["state"], rank1["state"]
    assert a.keys() == b.keys() and [k for k in a if not torch.equal(a[k], b[k])] == []
    assert (tmp_path / "run" / "nets" / "final.txt.gz").exists()
