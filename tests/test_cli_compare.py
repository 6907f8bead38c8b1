import csv

import numpy as np
import pytest
import yaml

from zeroforge.analysis.runs import load_run, summarize
from zeroforge.cli import main
from zeroforge.train.callbacks import metrics_columns
from zeroforge.train.go_game import GoGame

BATCH = 64


def write_run(run_dir, rates, val_losses, network=None, agc=None, log_every=10):
    """metrics.csv as train/callbacks.MetricsCSV writes it: train rows every `log_every` steps
    (samples_per_s over the interval since the previous row) and a validation row after every
    second train row. Returns the true wall time of every train row."""
    run_dir.mkdir(parents=True)
    rows, wall, clock = [], [], 0.0
    for i, rate in enumerate(rates):
        step = (i + 1) * log_every
        clock += log_every * BATCH / rate
        wall.append(clock)
        rows.append(
            {
                "step": step,
                "epoch": 0,
                "samples": step * BATCH,
                "loss": 6 - 0.1 * i,
                "policy_loss": 5 - 0.1 * i,
                "value_mse": 1.0,
                "accuracy": 0.01 * i,
                "lr": 0.01,
                "samples_per_s": f"{rate:.2f}",
            }
        )
        if i % 2 == 1 and val_losses:
            loss = val_losses.pop(0)
            rows.append(
                {
                    "step": step,
                    "epoch": 0,
                    "val_loss": loss,
                    "val_policy_loss": loss - 1,
                    "val_value_mse": 1.0,
                    "val_accuracy": 0.1 + 0.01 * i,
                }
            )
    with open(run_dir / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=metrics_columns(GoGame), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    if network:
        config = {"network": network, "optim": {"name": "sgd", "agc_clip": agc}}
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    return np.array(wall)


def test_load_and_summarize(tmp_path):
    rates = [100.0, 200.0, 250.0, 250.0]
    wall = write_run(
        tmp_path / "bn",
        rates,
        [5.5, 5.2],
        network={"kind": "lz", "norm": "bn", "blocks": 1, "filters": 8},
    )
    run = load_run(tmp_path / "bn")
    assert np.allclose(run.train["wall_s"], wall)
    assert np.allclose(run.val["wall_s"], wall[[1, 3]])
    row = summarize(run)
    assert row["best_val_loss"] == 5.2 and row["best_step"] == 40
    assert row["final_val_loss"] == 5.2
    assert row["final_val_accuracy"] == pytest.approx(0.13)
    assert row["best_val_policy"] == pytest.approx(4.2) and row["final_val_value"] == 1.0
    assert row["steps"] == 40
    assert row["samples_per_s"] == pytest.approx(np.mean(rates[1:]))
    assert row["wall_s"] == pytest.approx(wall[-1])
    assert row["network"] == "1x8 bn"
    convs = 18 * 8 * 9 + 2 * 8 * 8 * 9 + 8 * 2 + 8 * 1
    bn_betas = 8 + 2 * 8 + 2 + 1  # gamma is fixed in LZ batch norm
    fcs = 722 * 362 + 362 + 361 * 256 + 256 + 256 + 1
    assert row["params"] == convs + bn_betas + fcs


def test_compare_table_and_pngs(tmp_path, capsys):
    write_run(
        tmp_path / "bn",
        [100.0] * 6,
        [5.5, 5.0, 5.1],
        network={"kind": "lz", "norm": "bn", "blocks": 1, "filters": 8},
    )
    write_run(
        tmp_path / "nf",
        [90.0] * 6,
        [5.8, 5.6, 5.4],
        network={"kind": "lz", "norm": "nf", "blocks": 1, "filters": 8},
        agc=0.01,
    )
    out = tmp_path / "plots"
    assert main(["compare", str(tmp_path / "bn"), str(tmp_path / "nf"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(lines) == 3
    bn, nf = lines[1].split(" | "), lines[2].split(" | ")
    assert bn[0] == "| bn" and "5.0000" in bn and "5.1000" in bn
    assert "1x8 nf" in nf and "0.01" in nf and "5.4000" in nf
    for name in ("loss_vs_step.png", "loss_vs_time.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_missing_optional_columns(tmp_path, capsys):
    run = tmp_path / "old"
    run.mkdir()
    (run / "metrics.csv").write_text("step,loss\n10,6.0\n20,5.5\n")
    assert main(["compare", str(run), "--no-plots"]) == 0
    table = capsys.readouterr().out
    assert "| old | ? | - | - | 20 | - | - | - | - | - | - | - | 5.5000 | - | - |" in table


def test_missing_run_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope")]) == 1
    assert f"{tmp_path / 'nope' / 'metrics.csv'}: no such file" in capsys.readouterr().err


def test_bad_number_names_file_and_line(tmp_path, capsys):
    run = tmp_path / "bad"
    run.mkdir()
    (run / "metrics.csv").write_text("step,loss\n10,6.0\n20,oops\n")
    assert main(["compare", str(run), "--no-plots"]) == 1
    assert "metrics.csv: line 3: column 'loss': not a number: 'oops'" in capsys.readouterr().err
