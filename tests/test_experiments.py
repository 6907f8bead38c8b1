"""scripts/experiments: every run of every experiment composes as `zeroforge train` would
compose it and builds its network (a typo in an override fails here, not an hour into a run)."""

import importlib.util
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "scripts" / "experiments" / "harness.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("experiments_harness", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_experiment_run_composes_and_builds(harness, tmp_path, capsys):
    assert harness.main(["distillation", "lr", "nfnet", "--check", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("teacher-6x64-s1: 6x64 bn sgd") for line in lines)
    assert any(line.startswith("nf-agc-2x32-s2: 2x32 nf sgd") for line in lines)
    assert any(line.startswith("sgd-nol2-s1: 2x32 bn sgd") for line in lines)
    assert not (tmp_path / "data").exists()  # --check neither splits data nor trains


def test_overrides_flatten_and_the_last_value_of_a_key_wins(harness):
    nested = ["network=2x16", ["network.filters=32", ["optim=sgd"]], "network.filters=64"]
    flat = harness.flatten(nested)
    assert flat == ["network=2x16", "network.filters=32", "optim=sgd", "network.filters=64"]
    assert harness.last_wins(flat) == ["network=2x16", "optim=sgd", "network.filters=64"]


def test_a_run_defined_twice_differently_is_refused(harness, tmp_path):
    config = tmp_path / "x.yaml"
    config.write_text(
        "common: {train: [], data: {sgf: [], holdout: []}}\n"
        "experiments:\n"
        "  a: {runs: {r: {overrides: [optim=sgd]}}}\n"
        "  b: {runs: {r: {overrides: [optim=adamw]}}}\n"
    )
    with pytest.raises(SystemExit, match="run r-s1 is defined twice"):
        harness.main(["a", "b", "--check", "--config", str(config), "--out", str(tmp_path)])
