"""scripts/experiments/nnue_eval.py and nnue_plots.py: the held-out numbers of
docs/experiments/nnue-*.md are computed on exactly the positions the trainer validated on."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.nn.test_sfnnv5_stockfish import trained_like_net
from zeroforge.convert.nnue import export_nnue
from zeroforge.train.chess_game import ChessGame

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts" / "experiments"
SAMPLE = "data/sample/chess/sf15-d6.binpack"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_holdout_is_the_trainers_validation_and_the_loss_is_the_nets(tmp_path):
    nnue_eval = load("nnue_eval")
    data = {"batch_size": 256, "sample_rate": 1.0, "shuffle_buffer": 4096, "skip": {}}
    val = ChessGame.dataset([SAMPLE], data, seed=3, training=False, position_range=(0.8, 1.0))
    trainer_val = [batch for batch in val]
    held_out = nnue_eval.kept_positions(SAMPLE, holdout=0.2)
    expected = np.concatenate([batch["us"].numpy() for batch in trainer_val])
    assert 100 < len(expected) < 2000
    assert sorted(map(tuple, held_out["us"].tolist())) == sorted(map(tuple, expected.tolist()))

    net = tmp_path / "n.nnue"
    export_nnue(trained_like_net(seed=5), net)
    out = tmp_path / "eval.json"
    argv = [SAMPLE, "--holdout", "0.2", f"n={net}", "--no-dead", "--out", str(out)]
    assert nnue_eval.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["positions"] == len(expected)
    values = nnue_eval.net_values(str(net), held_out)
    row = result["nets"]["n"]
    assert row["loss"] == pytest.approx(nnue_eval.loss(values, held_out["score"]))
    assert row["cp_mae"] == pytest.approx(np.abs(values - held_out["score"]).mean())


def test_plot_draws_the_mean_of_seeds(tmp_path):
    plots = load("nnue_plots")
    for run, losses in {"a": (0.03, 0.02), "b": (0.05, 0.04)}.items():
        (tmp_path / run).mkdir()
        rows = ["step,loss,val_loss", "20,0.1,", f"50,,{losses[0]}", f"100,,{losses[1]}"]
        (tmp_path / run / "metrics.csv").write_text("\n".join(rows) + "\n")
    assert plots.val_curve(tmp_path / "a") == {50: 0.03, 100: 0.02}
    out = tmp_path / "p.png"
    assert plots.main([str(out), str(tmp_path), "both=a,b", "one=a"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.engine
def test_strength_reads_stockfish_evals_from_the_side_to_move(tmp_path):
    strength = load("nnue_strength")
    up_a_queen = "4k3/8/8/8/8/8/8/3QK3 {} - - 0 1"
    fens = [up_a_queen.format("w"), up_a_queen.format("b")]
    classical = strength.stockfish_evals(fens, None, classical=True)
    assert classical["net"][0] > 5 and classical["net"][1] < -5
    assert classical["final"][0] == -classical["final"][1]

    net = tmp_path / "n.nnue"
    export_nnue(trained_like_net(seed=5), net)
    fens, scores = strength.held_out_fens(SAMPLE, 60)
    assert len(fens) == 60 and len(scores) == 60
    printed = strength.stockfish_evals(fens, str(net))["net"]
    # the net's own integer pass (Stockfish's arithmetic) ranks the positions as Stockfish prints
    import chess

    from zeroforge.analysis.nnue_eval import evaluate
    from zeroforge.formats.nnue import read_nnue

    ours = [evaluate(read_nnue(net), chess.Board(fen)).value for fen in fens]
    assert strength.spearmanr(ours, printed).statistic > 0.99


@pytest.mark.engine
def test_strength_rate_without_games(tmp_path):
    strength = load("nnue_strength")
    net = tmp_path / "n.nnue"
    export_nnue(trained_like_net(seed=5), net)
    out = tmp_path / "rate"
    code = strength.main(["rate", SAMPLE, f"a={net}", "--positions", "80", "--games", "0",
                          "--out", str(out)])  # fmt: skip
    assert code == 0
    result = json.loads((out / "strength.json").read_text())
    assert result["positions_rho"] == 80
    assert set(result["references"]) == {"classical", "stockfish_net"}
    assert 0.5 < result["references"]["stockfish_net"]["rho"] <= 1
    assert 0 < result["nets"]["a"]["loss"] < 1 and -1 <= result["nets"]["a"]["rho"] <= 1
