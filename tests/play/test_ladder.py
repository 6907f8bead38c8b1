"""The strength ladder (play/ladder.py, `zeroforge ladder`): which games it plans, a finite
Elo with an interval for a net that never wins, a run's nets in step order, and one real small
ladder against GNU Go (leelaz + gnugo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeroforge.commands import ladder as ladder_command
from zeroforge.convert.lzweights import export_net
from zeroforge.formats.sgf import read_game
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.play.engines import have_engine
from zeroforge.play.ladder import Ladder, markdown, net_players, parse_rungs, rate, run_nets
from zeroforge.play.results import read_results


def _ladder(tmp_path: Path, nets=("a", "b", "c"), levels=(0, 1), handicaps=()) -> Ladder:
    paths = {name: tmp_path / f"{name}.txt" for name in nets}
    steps = {name: 100 * i for i, name in enumerate(nets, 1)}
    return Ladder(paths, list(levels), tmp_path / "out", steps=steps, handicaps=list(handicaps))


def _records(games: list[tuple[str, str, float]], stones: dict[str, int]) -> list[dict]:
    """Results lines of (black, white, black's score) games, `handicap` where white gives."""
    return [
        {
            "black": b,
            "white": w,
            "winner": b if score == 1.0 else w,
            "result": "B+10.5" if score == 1.0 else "W+40.5",
            **({"handicap": stones[w]} if w in stones else {}),
        }
        for b, w, score in games
    ]


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


def test_rungs_parse_and_handicap_rungs_pair_with_the_lowest_even_rung_and_every_net(
    tmp_path, capsys
):
    assert parse_rungs("1h9, 0,1,1h5,1") == ([0, 1], [(1, 5), (1, 9)])
    for bad in ("1h1", "1h10", "h9", "", "1,x"):
        with pytest.raises(ValueError, match="want rungs like 0,1,1h9"):
            parse_rungs(bad)
    with pytest.raises(ValueError, match="need an even rung"):
        _ladder(tmp_path, levels=(), handicaps=[(1, 9)])
    (tmp_path / "net.txt").write_text("")
    for levels, error in (("1h9", "need an even rung"), ("1h1", "want rungs like 0,1,1h9")):
        argv = [str(tmp_path / "net.txt"), "--out", str(tmp_path / "o"), "--levels", levels]
        assert ladder_command.main(argv) == 1
        assert error in capsys.readouterr().err
    ladder = _ladder(tmp_path, nets=("a", "b"), handicaps=[(1, 5), (1, 9)])
    assert ladder.rung_names() == ["gnugo-l0", "gnugo-l1", "gnugo-l1-h5", "gnugo-l1-h9"]
    pairs = [(a, b) for a, b, _ in ladder.pairings()]
    assert pairs[:3] == [("gnugo-l0", "gnugo-l1"), ("gnugo-l0", "gnugo-l1-h5")] + [
        ("gnugo-l0", "gnugo-l1-h9")
    ]
    assert {("a", "gnugo-l1-h9"), ("b", "gnugo-l1-h5"), ("b", "gnugo-l1")} <= set(pairs)
    assert len(pairs) == 3 + 8 + 1
    assert [ladder.stones(name) for name in ("gnugo-l1-h9", "gnugo-l1", "a")] == [9, 0, 0]
    spec = ladder.spec("gnugo-l1-h9")
    assert (spec.name, spec.options["level"]) == ("gnugo-l1-h9", 1)


def test_a_net_that_loses_every_even_game_is_placed_by_its_handicap_games(tmp_path):
    """Two nets that lose every even game: the one that beats GNU Go giving 9 stones half the
    time rates near that rung, the one that never does well below it; all intervals finite."""
    ladder = _ladder(tmp_path, nets=("half", "none"), handicaps=[(1, 9)])
    games = [("gnugo-l0", "gnugo-l1", 0.0), ("gnugo-l1", "gnugo-l0", 1.0)] * 4
    games += [("gnugo-l0", "gnugo-l1-h9", s) for s in (1.0, 1.0, 1.0, 0.0)]
    for net in ("half", "none"):
        games += [(net, rung, 0.0) for rung in ("gnugo-l0", "gnugo-l1")] * 4
    games += [("half", "gnugo-l1-h9", s) for s in (1.0, 0.0) * 8]
    games += [("none", "gnugo-l1-h9", 0.0)] * 16
    table = rate(ladder, _records(games, {"gnugo-l1-h9": 9}))
    rows = table["players"]
    assert rows["gnugo-l1-h9"]["handicap"] == 9 and rows["gnugo-l1"]["handicap"] is None
    assert rows["gnugo-l1-h9"]["elo"] < rows["gnugo-l0"]["elo"] < 0
    assert abs(rows["half"]["elo"] - rows["gnugo-l1-h9"]["elo"]) < 60
    assert rows["none"]["elo"] < rows["half"]["elo"] - 200
    assert all(0 < row["elo_95"] < 2000 for name, row in rows.items() if name != "gnugo-l1")
    assert rows["half"]["margin_vs_gnugo"] == -40.5  # even games only (handicap wins: +10.5)
    assert "`gnugo-lL-hN`: GNU Go level L giving N stones" in markdown(table)


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


@pytest.mark.engine
@pytest.mark.skipif(not (have_engine("leelaz") and have_engine("gnugo")), reason="engines")
def test_ladder_with_a_handicap_rung_plays_handicap_games(lowercase_tmp, capsys):
    net = lowercase_tmp / "net.txt.gz"
    export_net(randomize_bn_stats(LZNet(1, 8), seed=3), net)
    out = lowercase_tmp / "ladder"
    args = [str(net), "--out", str(out), "--levels", "0,0h2", "--games", "1"]
    assert ladder_command.main(args + ["--rung-games", "1", "--max-moves", "8"]) == 0
    table = json.loads((out / "ladder.json").read_text())
    assert table["games"] == 3 and table["players"]["gnugo-l0-h2"]["handicap"] == 2
    assert all(row["elo_95"] for name, row in table["players"].items() if name != "gnugo-l0")
    for pair, black in (("gnugo-l0--gnugo-l0-h2", "gnugo-l0"), ("net--gnugo-l0-h2", "net")):
        (record,) = read_results(out / "pairs" / pair / "results.jsonl")
        assert (record["black"], record["handicap"]) == (black, 2) and "error" not in record
        game = read_game(out / "pairs" / pair / record["sgf"])
        assert len(game.handicap_stones) == 2 and game.moves[0][0] == "w"
    assert "| gnugo-l0-h2 | 2 |" in capsys.readouterr().out
