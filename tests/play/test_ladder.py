"""The strength ladder (play/ladder.py, `zeroforge ladder`): which games it plans, a finite
Elo with an interval for a net that never wins, a run's nets in step order, and one real small
ladder against GNU Go (leelaz + gnugo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeroforge.commands import ladder as ladder_command
from zeroforge.convert.lzweights import export_net
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.play.engines import have_engine
from zeroforge.play.ladder import Ladder, net_players, rate, run_nets


def _ladder(tmp_path: Path, nets=("a", "b", "c"), levels=(0, 1)) -> Ladder:
    paths = {name: tmp_path / f"{name}.txt" for name in nets}
    steps = {name: 100 * i for i, name in enumerate(nets, 1)}
    return Ladder(paths, list(levels), tmp_path / "out", steps=steps)


def test_pairings_chain_rungs_and_nets_and_play_every_net_against_every_rung(tmp_path):
    pairs = [(a, b) for a, b, _ in _ladder(tmp_path).pairings()]
    assert pairs[0] == ("gnugo-l0", "gnugo-l1")
    assert {("a", "gnugo-l0"), ("c", "gnugo-l1")} <= set(pairs)
    assert pairs[-2:] == [("a", "b"), ("b", "c")] and len(pairs) == 1 + 6 + 2


def test_a_net_that_loses_every_game_gets_a_finite_elo_below_the_rungs(tmp_path):
    ladder = _ladder(tmp_path, nets=("weak",))
    games = [("gnugo-l1", "gnugo-l0", 1.0), ("gnugo-l0", "gnugo-l1", 0.0)] * 2
    games += [("weak", "gnugo-l0", 0.0), ("gnugo-l1", "weak", 1.0)] * 2
    records = [
        {"black": b, "white": w, "winner": b if score == 1.0 else w, "result": result}
        for (b, w, score), result in zip(
            games, ["B+3.5", "W+1.5"] * 2 + ["W+40.5", "B+R"] * 2, strict=True
        )
    ]
    table = rate(ladder, records)
    rows = table["players"]
    assert rows["weak"]["margin_vs_gnugo"] == -40.5 and rows["gnugo-l0"]["margin_vs_gnugo"] is None
    assert table["anchor"] == "gnugo-l1" and rows["gnugo-l1"]["elo"] == 0.0
    assert rows["weak"]["elo"] < rows["gnugo-l0"]["elo"] < 0
    assert 0 < rows["weak"]["elo_95"] < 2000 and rows["weak"]["score"] == 0.0


def test_run_nets_are_in_step_order_with_final_last(tmp_path):
    nets = tmp_path / "run" / "nets"
    nets.mkdir(parents=True)
    for name in ("step-0000200.txt.gz", "step-0000050.txt.gz", "final.txt.gz", "final-ema.txt.gz"):
        (nets / name).write_bytes(b"")
    (tmp_path / "run" / "config.yaml").write_text("train:\n  max_steps: 300\n")
    assert [p.name for p in run_nets(tmp_path / "run")] == [
        "step-0000050.txt.gz",
        "step-0000200.txt.gz",
        "final.txt.gz",
    ]
    players, steps = net_players([tmp_path / "run"])
    assert list(players) == ["run-step-0000050", "run-step-0000200", "run-final"]
    assert list(steps.values()) == [50, 200, 300]
    (tmp_path / "run" / "config.yaml").write_text("train:\n  max_steps: 200\n")
    assert [p.name for p in run_nets(tmp_path / "run")][-1] == "step-0000200.txt.gz"


@pytest.mark.engine
@pytest.mark.skipif(not (have_engine("leelaz") and have_engine("gnugo")), reason="engines")
def test_ladder_command_plays_rates_and_plots(lowercase_tmp, capsys):
    nets = lowercase_tmp / "run" / "nets"
    nets.mkdir(parents=True)
    for step, seed in ((10, 1), (20, 2)):
        export_net(randomize_bn_stats(LZNet(1, 8), seed=seed), nets / f"step-{step:07d}.txt.gz")
    out = lowercase_tmp / "ladder"
    args = [str(lowercase_tmp / "run"), "--out", str(out), "--levels", "0", "--games", "1"]
    args += ["--net-games", "1", "--max-moves", "12"]
    assert ladder_command.main(args) == 0
    table = json.loads((out / "ladder.json").read_text())
    assert table["games"] == 3 and table["anchor"] == "gnugo-l0"
    assert all(row["elo_95"] for name, row in table["players"].items() if name != "gnugo-l0")
    assert (out / "elo-vs-steps.png").read_bytes()[:4] == b"\x89PNG"
    assert "| run-step-0000010 | 2 |" in capsys.readouterr().out
    assert (out / "ladder.md").read_text().count("|") > 20
    assert ladder_command.main(args) == 0  # resumed: nothing left to play
    assert json.loads((out / "ladder.json").read_text())["games"] == 3
