"""`zeroforge train network=sfnnv5`: the same recipe trains Stockfish's NNUE on the shipped
.binpack, and Stockfish 15.1 loads every exported net and evaluates exactly as we do."""

from __future__ import annotations

import csv

import pytest

from tests.analysis.stockfish_net import export_stockfish_net
from zeroforge.analysis.nnue_check import check_net
from zeroforge.commands.train import main
from zeroforge.formats.nnue import read_nnue
from zeroforge.play.engines import have_engine

SAMPLE = "data/sample/chess/sf15-d6.binpack"
needs_stockfish = pytest.mark.skipif(not have_engine("stockfish"), reason="no stockfish")


def chess_args(run, steps: int, *extra: str) -> list[str]:
    return [
        "network=sfnnv5",
        f"data.train={SAMPLE}",
        f"data.val={SAMPLE}",
        "data.batch_size=128",
        "data.val_batches=2",
        "data.shuffle_buffer=4096",
        "data.workers=0",
        f"train.max_steps={steps}",
        "train.log_every=1",
        "train.val_every=0",
        "train.checkpoint_every=2",
        "train.export_every=2",
        "train.progress=false",
        f"out_dir={run}",
        *extra,
    ]


def test_cfg_job_for_chess_takes_nnue_pytorch_defaults(tmp_path, capsys):
    assert main(["--cfg", "job", *chess_args(tmp_path / "run", 5)]) == 0
    out = capsys.readouterr().out
    assert "kind: sfnnv5" in out and "name: ranger" in out and "eps: 1.0e-07" in out
    assert "lambda: 1.0" in out and "kind: none" in out  # averaging none
    assert main(["--cfg", "job", *chess_args(tmp_path / "run", 5), "optim=adamw"]) == 0
    assert "name: adamw" in capsys.readouterr().out  # the command line still wins


@pytest.mark.engine
@needs_stockfish
def test_train_chess_writes_nets_stockfish_loads(lowercase_tmp):
    run = lowercase_tmp / "run"
    assert main(chess_args(run, 4, "train.val_every=2", "init=nodchip")) == 0
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows if r["loss"]] == [1, 2, 3, 4]
    assert all(float(r["cp_mae"]) > 0 for r in rows if r["loss"])
    assert [int(r["step"]) for r in rows if r["val_loss"]] == [2, 4]
    nets = sorted(p.name for p in (run / "nets").iterdir())
    assert nets == ["final.nnue", "step-0000002.nnue", "step-0000004.nnue"]
    assert (run / "checkpoints" / "last.ckpt").exists()
    # nodchip's transformer bias init: 0.5 + noise (x127 in the file)
    assert 40 < read_nnue(run / "nets" / "final.nnue").ft_biases.mean() < 90
    report = check_net(run / "nets" / "final.nnue", sample_fens(40))
    assert report.ok, report.mismatches


def sample_fens(count: int) -> list[str]:
    from zeroforge.data.chess_records import iter_records

    fens = []
    for record in iter_records(SAMPLE):
        if not record.board().is_check():
            fens.append(record.fen)
        if len(fens) == count:
            return fens
    return fens


@pytest.mark.slow
@pytest.mark.engine
@needs_stockfish
def test_fine_tune_stockfish_own_net(lowercase_tmp):
    """init_from Stockfish's embedded net: step 0 validates it, training moves it a little, and
    the result is still a net Stockfish evaluates exactly as we do."""
    sf15 = export_stockfish_net(lowercase_tmp)
    run = lowercase_tmp / "run"
    args = chess_args(run, 2, f"init_from={sf15}", "train.val_every=2", "optim=adamw")
    args += ["optim.lr=5e-3", "optim.weight_decay=0"]  # (Ranger's first steps barely move)
    assert main(args) == 0
    with open(run / "metrics.csv") as handle:
        val = [r for r in csv.DictReader(handle) if r["val_loss"]]
    assert [int(r["step"]) for r in val] == [0, 2]
    # Stockfish's own net already fits Stockfish's search scores well
    assert float(val[0]["val_loss"]) < 0.01  # a fresh net: ~0.03 after 20 steps
    assert val[1]["val_loss"] != val[0]["val_loss"]  # and it moved
    final = read_nnue(run / "nets" / "final.nnue")
    original = read_nnue(sf15)
    assert final.description == original.description
    changed = (final.ft_weights != original.ft_weights).mean()
    assert 0 < changed < 0.5  # fine-tuned (the rows of features seen), not replaced
    assert check_net(run / "nets" / "final.nnue", sample_fens(20)).ok


@pytest.mark.parametrize("workers", [0, 1])
def test_bad_file_is_one_named_line_with_or_without_workers(tmp_path, capsys, workers):
    """A data error raised in a DataLoader worker reaches the user as the same one line as
    without workers (torch re-raises it with the worker's whole traceback as its message)."""
    cut = tmp_path / "cut.binpack"
    cut.write_bytes(open(SAMPLE, "rb").read()[:7000])
    args = chess_args(tmp_path / "run", 2, f"data.train={cut}", f"data.workers={workers}")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Caught" not in err and "Original Traceback" not in err
    line = f"zeroforge train: {cut}: chunk 37 (byte 6892): cut short: 100 of 147 payload bytes"
    assert err.strip().splitlines()[-1] == line
