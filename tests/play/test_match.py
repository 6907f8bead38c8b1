import json
import sys

import pytest

from zeroforge.commands import match as match_command
from zeroforge.formats.sgf import read_game
from zeroforge.play.match import Match, MatchError, load_match, run_match, unique_players
from zeroforge.play.ratings import Sprt
from zeroforge.play.results import read_results
from zeroforge.play.specs import parse_flag
from zeroforge.play.summary import build_summary


def fake_match(tmp_path, fake_spec, black: dict, white: dict, **options) -> Match:
    players = unique_players([parse_flag(fake_spec(**black)), parse_flag(fake_spec(**white))])
    assert len(players) == 2
    return Match(players=players, out=tmp_path / "match", workers=2, **options)


def test_match_plays_alternating_colours_and_writes_records(tmp_path, fake_spec):
    match = fake_match(
        tmp_path,
        fake_spec,
        {"resign_after": 4, "name": "a"},
        {"resign_after": 9, "name": "b"},
        games=4,
    )
    a, b = match.players
    records = run_match(match)
    assert sorted(r["game"] for r in records) == [0, 1, 2, 3]
    for record in records:
        assert (record["black"], record["white"]) == ((a, b) if record["game"] % 2 == 0 else (b, a))
        # whoever plays "a" resigns first: at its 5th genmove
        assert record["winner"] == b and record["reason"] == "resign"
        assert record["moves"] == (8 if record["black"] == a else 9)
        game = read_game(match.out / record["sgf"])
        assert (game.black, game.white, game.komi) == (record["black"], record["white"], 7.5)
        assert game.result == record["result"] == ("W+R" if record["black"] == a else "B+R")
        assert len(game.moves) == record["moves"]
    assert read_results(match.out / "results.jsonl") == records


def test_dying_and_hanging_engines_are_errors_and_the_match_goes_on(tmp_path, fake_spec):
    match = fake_match(
        tmp_path,
        fake_spec,
        {"die_after": 3, "name": "fragile"},
        {"resign_after": 20, "name": "solid"},
        games=2,
        max_moves=40,
    )
    records = sorted(run_match(match), key=lambda r: r["game"])
    assert [r["game"] for r in records] == [0, 1]
    for record in records:
        assert record["reason"] == "error" and record["winner"] is None
        assert "exited while answering 'genmove" in record["error"]
        assert "dying after 3 moves" in record["stderr_tail"]
        assert read_game(match.out / record["sgf"]).result is None
    hang = fake_match(
        tmp_path / "h",
        fake_spec,
        {"hang_after": 3},
        {"resign_after": 20},
        games=2,
        move_timeout=1.0,
    )
    records = run_match(hang)
    assert len(records) == 2
    assert all("gave no reply" in r["error"] and "hanging" in r["stderr_tail"] for r in records)


def test_rerun_resumes_and_a_different_match_is_refused(tmp_path, fake_spec):
    match = fake_match(tmp_path, fake_spec, {"resign_after": 2}, {"resign_after": 3}, games=2)
    assert len(run_match(match)) == 2
    match.games = 4  # a longer match of the same players continues the file
    records = run_match(match)
    assert sorted(r["game"] for r in records) == [0, 1, 2, 3]
    other = fake_match(
        tmp_path, fake_spec, {"resign_after": 2}, {"resign_after": 3}, games=2, komi=6.5
    )
    with pytest.raises(MatchError, match="different match.*komi"):
        run_match(other)


def test_sprt_stops_the_match_early(tmp_path, fake_spec):
    match = fake_match(
        tmp_path,
        fake_spec,
        {"name": "strong"},
        {"resign_after": 0, "delay": 0.3},  # slow enough for the main thread to stop it
        games=40,
        sprt=Sprt(0, 200, 0.05, 0.05),
        max_moves=6,
    )
    match.workers = 1
    seen = []
    records = run_match(match, on_result=lambda records: seen.append(len(records)))
    # each win adds log(L(200) / L(0)) = 0.42 to the LLR: H1 after 8 straight wins; the one
    # game that may already be under way then (1 worker) still counts
    assert len(records) in (8, 9) and seen == list(range(len(records) + 1))
    assert all(r["winner"] == "strong" for r in records)
    assert len(run_match(match)) == len(records)  # decided: a rerun plays nothing more


def test_command_json_and_summary_files(tmp_path, fake_spec, capsys):
    out = tmp_path / "cli"
    argv = [
        "--black",
        fake_spec(resign_after=3),
        "--white",
        fake_spec(resign_after=5),
        "--games",
        "4",
        "--out",
        str(out),
        "--workers",
        "2",
        "--sprt",
        "0,100",
        "--json",
    ]
    assert match_command.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    first, second = summary["players"]
    assert summary["games"] == 4 and summary["errors"] == 0
    assert summary["wins"] == {first: 0, second: 4}
    assert summary["elo"] is None and summary["elo_interval"][1] is not None
    assert summary["sprt"]["llr"] < 0
    assert json.loads((out / "summary.json").read_text()) == summary
    assert "| player |" in (out / "summary.md").read_text()
    assert len(list((out / "games").glob("*.sgf"))) == 4


def test_command_errors_are_one_line(tmp_path, capsys):
    assert match_command.main(["--black", "gnugo"]) == 1
    assert "--white" in capsys.readouterr().err
    assert match_command.main(["--black", "gnugo:levle=1", "--white", "gnugo"]) == 1
    assert "unknown key" in capsys.readouterr().err
    config = tmp_path / "m.yaml"
    config.write_text("players: {a: {kind: gnugo}}\nkomi: 7.5\n")
    assert match_command.main([str(config)]) == 1
    assert "needs exactly 2" in capsys.readouterr().err


def test_round_robin_from_config(tmp_path, fake_engine):
    config = tmp_path / "rr.yaml"
    players = {
        name: {"kind": "gtp", "command": fake_engine(resign_after=after)}
        for name, after in (("weak", 1), ("mid", 4), ("strong", 9))
    }
    config.write_text(
        json.dumps({"players": players, "schedule": "round_robin", "games": 2, "workers": 2})
    )  # JSON is YAML
    assert match_command.main([str(config), "--json"]) == 0
    summary = json.loads((tmp_path / "rr" / "summary.json").read_text())
    assert summary["games"] == 6 and summary["planned"] == 6
    elo = {name: rating["elo"] for name, rating in summary["ratings"].items()}
    assert elo["weak"] == 0 and elo["weak"] < elo["mid"] < elo["strong"]
    assert sys.executable in json.dumps(json.loads((tmp_path / "rr" / "match.json").read_text()))


def test_config_paths_and_overrides(tmp_path, fake_engine, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "configs"
    folder.mkdir()
    config = folder / "m.yaml"
    config.write_text(
        "players:\n"
        f"  a: {{kind: gtp, command: {json.dumps(fake_engine(resign_after=2))}}}\n"
        f"  b: {{kind: gtp, command: {json.dumps(fake_engine(resign_after=3))}}}\n"
        "games: 3\nout: results/m1\nsprt: {elo0: 0, elo1: 50}\n"
    )
    match = load_match(config, {"games": None, "out": None, "workers": 1})
    assert match.out == folder / "results" / "m1"  # relative to the config file
    assert (match.games, match.workers, match.sprt.elo1) == (3, 1, 50)
    assert match.schedule == "pair" and list(match.players) == ["a", "b"]
    moved = load_match(config, {"out": tmp_path / "elsewhere", "games": 5})
    assert moved.out == tmp_path / "elsewhere" and moved.games == 5
    config.write_text("players: {a: {kind: gnugo}, b: {kind: gnugo}}\nsprt: {elo2: 1}\n")
    with pytest.raises(MatchError, match="m.yaml"):
        load_match(config, {})
    config.write_text("players: {a: {kind: gnugo}, b: {kind: gnugo}}\nrounds: 3\n")
    with pytest.raises(MatchError, match="unknown key.*rounds"):
        load_match(config, {})


def test_a_rerun_replays_the_games_that_ended_in_an_error(tmp_path, fake_spec):
    broken = tmp_path / "engine-broken"  # while this file exists, "flaky" dies at once
    broken.write_text("")
    flaky = {"die_if": str(broken), "resign_after": 3, "name": "flaky"}
    match = fake_match(tmp_path, fake_spec, flaky, {"resign_after": 9, "name": "solid"}, games=3)
    first = run_match(match)
    assert sorted(r["game"] for r in first) == [0, 1, 2] and all(r.get("error") for r in first)

    broken.unlink()
    records = run_match(match)
    assert sorted(r["game"] for r in records) == [0, 1, 2]  # one record per game: the newest
    assert not any(r.get("error") for r in records) and {r["winner"] for r in records} == {"solid"}
    log = read_results(match.out / "results.jsonl")
    assert len(log) == 6 and log[:3] == first  # the errors stay in the file, as history
    summary = build_summary(match, records)
    assert (summary["games"], summary["errors"], summary["finished"]) == (3, 0, True)
    assert run_match(match) == records and len(read_results(match.out / "results.jsonl")) == 6
