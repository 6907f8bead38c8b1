"""Handicap games in Go matches (play/go_game.py): the receiver is Black in every game, both
engines place the stones by `fixed_handicap`, White moves first, the SGF holds HA and AB, the
fingerprint keeps even and handicap matches apart; and real games (leelaz taking 9 stones from
GNU Go level 1, GNU Go's count of the stones as handicap)."""

from __future__ import annotations

import json

import pytest

from zeroforge.commands import match as match_command
from zeroforge.formats.sgf import read_game
from zeroforge.go.geometry import move_to_vertex
from zeroforge.play.match import Match, MatchError, load_match, run_match, unique_players
from zeroforge.play.results import read_results
from zeroforge.play.scoring import score_game
from zeroforge.play.specs import make_spec, parse_flag
from zeroforge.play.summary import build_summary, footer

STAR_POINTS = {"D4", "K4", "Q4", "D10", "K10", "Q10", "D16", "K16", "Q16"}


def _match(tmp_path, fake_spec, black: dict, white: dict, **options) -> Match:
    players = unique_players([parse_flag(fake_spec(**black)), parse_flag(fake_spec(**white))])
    return Match(players=players, out=tmp_path / "match", workers=2, **options)


def _vertices(moves) -> set[str]:
    return {move_to_vertex(m) for m in moves}


def test_the_receiver_is_black_every_game_and_white_moves_first(tmp_path, fake_spec):
    stones = "D4,Q16"
    match = _match(
        tmp_path,
        fake_spec,
        {"name": "weak", "stones": stones, "resign_after": 3},
        {"name": "strong", "stones": stones, "resign_after": 9},
        games=3,
        handicap=2,
    )
    assert match.komi == 0.5  # the handicap komi when none is given
    assert [(g.black, g.white) for g in match.planned()] == [("weak", "strong")] * 3
    records = run_match(match)
    assert len(records) == 3
    for record in records:
        assert (record["black"], record["handicap"], record["winner"]) == ("weak", 2, "strong")
        assert record["result"] == "W+R" and record["moves"] == 7  # W, B, W, B, W, B, W; B resigns
        game = read_game(match.out / record["sgf"])
        assert _vertices(game.handicap_stones) == {"D4", "Q16"} and game.komi == 0.5
        assert [c for c, _ in game.moves] == ["w", "b"] * 3 + ["w"]
        assert not _vertices(m for _, m in game.moves) & {"D4", "Q16"}
        assert "HA[2]" in (match.out / record["sgf"]).read_text()
    assert "(komi 0.5, 2 handicap stones)" in footer(build_summary(match, records))[0]


def test_engines_that_place_different_stones_make_an_error_record(tmp_path, fake_spec):
    match = _match(
        tmp_path, fake_spec, {"stones": "D4,Q16"}, {"stones": "Q4,D16"}, games=1, handicap=2
    )
    (record,) = run_match(match)
    assert record["reason"] == "error" and record["winner"] is None
    assert "fixed_handicap 2:" in record["error"] and "D4 Q16" in record["error"]
    quiet = _match(tmp_path / "q", fake_spec, {}, {}, games=1, handicap=2)  # answers nothing
    (record,) = run_match(quiet)
    assert "placed nothing" in record["error"]


def test_an_even_match_is_never_resumed_as_a_handicap_one(tmp_path, fake_spec):
    black, white = {"stones": "D4,Q16", "resign_after": 2}, {"stones": "D4,Q16"}
    even = _match(tmp_path, fake_spec, black, white, games=1)
    assert "handicap" not in even.fingerprint() and even.komi == 7.5
    assert len(run_match(even)) == 1
    handicap = _match(tmp_path, fake_spec, black, white, games=1, handicap=2, komi=7.5)
    with pytest.raises(MatchError, match=r"different match \(handicap differ"):
        run_match(handicap)
    handicap.out = tmp_path / "h"
    assert len(run_match(handicap)) == 1
    again = _match(tmp_path, fake_spec, black, white, games=1, komi=7.5)
    again.out = handicap.out
    with pytest.raises(MatchError, match=r"different match \(handicap differ"):
        run_match(again)
    fewer = _match(tmp_path, fake_spec, black, white, games=1, handicap=3, komi=7.5)
    fewer.out = handicap.out
    with pytest.raises(MatchError, match="handicap differ"):
        run_match(fewer)


def test_bad_handicaps_are_refused(tmp_path, fake_spec, capsys):
    for stones in (1, 10, -2):
        with pytest.raises(MatchError, match="0 \\(even\\) or 2-9"):
            _match(tmp_path, fake_spec, {}, {}, handicap=stones)
    players = {n: make_spec({"kind": "stockfish", "nodes": 1, "name": n}, "sf") for n in "ab"}
    with pytest.raises(MatchError, match="a chess match has none"):
        Match(players=players, out=tmp_path / "c", handicap=2)
    config = tmp_path / "m.yaml"
    config.write_text("players: {a: {kind: gnugo}, b: {kind: gnugo}}\nhandicap: 5\n")
    loaded = load_match(config, {})
    assert (loaded.handicap, loaded.komi) == (5, 0.5)
    assert load_match(config, {"handicap": 0, "komi": None}).komi == 7.5
    argv = ["--black", fake_spec(), "--white", fake_spec(), "--handicap", "1"]
    assert match_command.main(argv + ["--out", str(tmp_path / "x")]) == 1
    assert "handicap must be 0 (even) or 2-9" in capsys.readouterr().err


@pytest.mark.engine
def test_gnugo_counts_handicap_stones_as_one_point_each_for_white(settled_game):
    moves = settled_game(dead_white_stone=False)  # B+11.5 at komi 7.5, every stone played
    stones = [m for colour, m in moves if colour == "b"][:9]
    rest = [(colour, m) for colour, m in moves if m not in stones]
    assert score_game(moves, 7.5, level=1) == "B+11.5"
    assert score_game(rest, 7.5, stones, level=1) == "B+2.5"  # the same board, 9 fewer points


@pytest.mark.engine
def test_leelaz_takes_nine_stones_from_gnugo(tmp_path, lz_weights, capsys):
    out = tmp_path / "m"
    argv = ["--black", f"net=leelaz:weights={lz_weights},visits=1,resign=0"]
    argv += ["--white", "gnugo:level=1", "--handicap", "9", "--games", "1", "--max-moves", "12"]
    assert match_command.main(argv + ["--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["games"], summary["handicap"]) == (0, 1, 9)
    (record,) = read_results(out / "results.jsonl")
    assert (record["black"], record["white"], record["handicap"]) == ("net", "gnugo-l1", 9)
    assert (record["reason"], record["scoring"]) == ("move_cap", "estimate_score")
    game = read_game(out / record["sgf"])
    assert _vertices(game.handicap_stones) == STAR_POINTS and game.komi == 0.5
    assert [c for c, _ in game.moves] == ["w", "b"] * 6
    assert not _vertices(m for _, m in game.moves) & STAR_POINTS
    assert game.result == record["result"]
    assert "HA[9]" in (out / record["sgf"]).read_text()
    assert json.loads((out / "match.json").read_text())["handicap"] == 9
