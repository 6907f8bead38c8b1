"""metrics.csv grows by appends during a run (one atomic rewrite at its start only)."""

import csv
import os

import lightning.pytorch as pl

from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import compose_config
from zeroforge.train.recipe import run


class FileIdentity(pl.Callback):
    """Records metrics.csv's inode and size after every training step."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_train_batch_end(self, trainer, *args) -> None:
        stat = os.stat(self.path)
        self.seen.append((stat.st_ino, stat.st_size))


def test_metrics_csv_is_appended_not_rewritten(tmp_path):
    chunks = write_chunks(tmp_path / "chunks", files=2, positions=64)
    out = tmp_path / "run"
    (out).mkdir()
    (out / "metrics.csv").write_text("step,loss\n999,1.0\n")  # an old run's file: replaced
    cfg = compose_config(train_args(chunks, out, 6, "train.export_every=0"))
    watch = FileIdentity(out / "metrics.csv")
    run(cfg, extra_callbacks=[watch])
    inodes, sizes = zip(*watch.seen, strict=True)
    assert len(set(inodes)) == 1  # the same file throughout: appended to
    assert all(a < b for a, b in zip(sizes, sizes[1:], strict=False))  # a row every step
    with open(out / "metrics.csv") as handle:
        assert [int(r["step"]) for r in csv.DictReader(handle)] == [1, 2, 3, 4, 5, 6]
