"""`zeroforge train` end to end: Hydra config on the command line, a short real run on chunk files,
everything it writes, and the exported nets checked in the real leelaz."""

import csv

import pytest

from tests.test_leelaz_equivalence import POSITIONS, assert_same, leelaz_heatmaps, our_heatmap
from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import main
from zeroforge.convert.nets import load_any_net
from zeroforge.play.engines import have_engine


def test_cfg_job_prints_the_resolved_config_and_writes_nothing(tmp_path, capsys):
    args = ["--cfg", "job", "network=10x128", "optim=adamw", "optim.lr=0.02", "data.train=x"]
    assert main([*args, f"out_dir={tmp_path / 'run'}", "data.batch_size=256"]) == 0
    out = capsys.readouterr().out
    assert "blocks: 10\n" in out and "filters: 128\n" in out and "name: adamw" in out
    assert "lr: 0.02\n" in out and "batch_size: 256\n" in out and "until: 80%" in out
    assert not (tmp_path / "run").exists()
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["data.train=x"], "out_dir"),
        (["data.train=x", "out_dir=y", "optim.lrr=1"], "lrr"),
        (["data.train=x", "out_dir=y", "network=3x3"], "3x3"),
    ],
)
def test_config_errors_are_one_line_messages(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("zeroforge train: ") and message in err and "Traceback" not in err


def test_missing_data_names_the_path(tmp_path, capsys):
    assert main(train_args(tmp_path / "nothing", tmp_path / "run", 2)) == 1
    assert "nothing" in capsys.readouterr().err


@pytest.mark.engine
@pytest.mark.skipif(not have_engine("leelaz"), reason="leelaz not installed")
def test_train_writes_the_run_and_leelaz_plays_the_nets(lowercase_tmp):
    chunks = write_chunks(lowercase_tmp / "chunks", files=5, positions=80)
    run = lowercase_tmp / "run"
    args = train_args(chunks, run, 6, "train.precision=bf16-mixed", "train.channels_last=true")
    args += ["data.val_fraction=0.2", "train.val_every=3", "data.val_batches=2"]
    args += ["train.log_every=2", "train.checkpoint_every=3", "train.export_every=3"]
    assert main(args) == 0

    assert "blocks: 2" in (run / "config.yaml").read_text()
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    train_rows = [r for r in rows if r["loss"]]
    assert [int(r["step"]) for r in train_rows] == [2, 4, 6]
    assert all(float(r["samples_per_s"]) > 0 and float(r["lr"]) > 0 for r in train_rows)
    assert [int(r["step"]) for r in rows if r["val_loss"]] == [3, 6]
    assert all(0 <= float(r["val_accuracy"]) <= 1 for r in rows if r["val_loss"])
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert {p.name for p in (run / "checkpoints").iterdir()} >= {"last.ckpt", "step-0000006.ckpt"}
    nets = {p.name for p in (run / "nets").iterdir()}
    assert {"step-0000003.txt.gz", "final.txt.gz", "final-ema.txt.gz"} <= nets
    assert not [p for p in run.rglob("*") if p.name.startswith(".")]  # no temporary files left

    # the final net is the checkpoint's network, and leelaz computes what we compute
    trained = load_any_net(run / "checkpoints" / "last.ckpt")
    moves = list(POSITIONS.values())[:3]
    for name in ("final.txt.gz", "final-ema.txt.gz"):
        heatmaps = leelaz_heatmaps(run / "nets" / name, moves)
        assert len(heatmaps) == len(moves)
        if name == "final.txt.gz":
            for position, heatmap in zip(moves, heatmaps, strict=True):
                assert_same(our_heatmap(trained, position), heatmap, f"{name}: {position!r}")
