"""Real matches: leelaz (a random 2x16 net, 1 playout) against GNU Go level 1."""

import json

import pytest

from zeroforge.commands import match as match_command
from zeroforge.formats.sgf import read_game
from zeroforge.go.geometry import PASS, move_to_vertex
from zeroforge.play.results import read_results


@pytest.mark.engine
def test_leelaz_against_gnugo(tmp_path, lz_weights, capsys):
    out = tmp_path / "m"
    argv = [
        "--black",
        f"leelaz:weights={lz_weights},playouts=1,resign=0",
        "--white",
        "gnugo:level=1",
        "--games",
        "2",
        "--max-moves",
        "24",
        "--out",
        str(out),
        "--workers",
        "2",
        "--json",
    ]
    assert match_command.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["errors"] == 0 and summary["games"] == 2
    assert sum(summary["wins"].values()) + summary["draws"] == 2
    records = sorted(read_results(out / "results.jsonl"), key=lambda r: r["game"])
    assert [r["black"] for r in records] == ["leelaz-random-2x16-p1", "gnugo-l1"]
    for record in records:
        game = read_game(out / record["sgf"])
        assert record["reason"] in ("move_cap", "passes", "resign")
        assert len(game.moves) == record["moves"] and game.result == record["result"]
        assert [c for c, _ in game.moves] == ["b", "w"] * (len(game.moves) // 2) + ["b"] * (
            len(game.moves) % 2
        )


@pytest.mark.engine
def test_our_checkpoint_is_exported_for_leelaz(tmp_path, capsys):
    import torch

    from zeroforge.nn.checkpoint import save_checkpoint
    from zeroforge.nn.lznet import LZNet

    torch.manual_seed(0)
    checkpoint = tmp_path / "Our Net.ckpt"  # capitals and a space: leelaz never sees this path
    save_checkpoint(LZNet(blocks=1, filters=8), checkpoint)
    out = tmp_path / "m"
    argv = [
        "--black",
        f"mine=leelaz:weights={checkpoint},playouts=1",
        "--white",
        f"same=leelaz:weights={checkpoint},visits=1",
        "--games",
        "1",
        "--max-moves",
        "6",
        "--out",
        str(out),
    ]
    assert match_command.main(argv) == 0
    (record,) = read_results(out / "results.jsonl")
    assert "error" not in record and record["moves"] == 6
    assert (record["black"], record["white"]) == ("mine", "same")
    # retrained to the same path: a different player, so the old results are not resumed
    save_checkpoint(LZNet(blocks=1, filters=8), checkpoint)
    assert match_command.main(argv) == 1
    assert "holds a different match (players differ" in capsys.readouterr().err


@pytest.mark.engine
def test_game_ended_by_passes_is_scored_by_final_score(tmp_path, fake_spec, settled_game):
    moves = settled_game(dead_white_stone=True)
    lists = {c: ",".join(move_to_vertex(m) for colour, m in moves if colour == c) for c in "bw"}
    out = tmp_path / "m"
    argv = [
        "--black",
        fake_spec(moves=lists["b"]),
        "--white",
        fake_spec(moves=lists["w"]),
        "--games",
        "1",
        "--max-moves",
        "1000",
        "--out",
        str(out),
    ]
    assert match_command.main(argv) == 0
    (record,) = read_results(out / "results.jsonl")
    assert (record["reason"], record["scoring"], record["result"]) == (
        "passes",
        "final_score",
        "B+11.5",
    )
    game = read_game(out / record["sgf"])
    for colour in "bw":
        played = [m for c, m in game.moves if c == colour and m != PASS]
        assert played == [m for c, m in moves if c == colour]
    assert [m for _, m in game.moves[-2:]] == [PASS, PASS]
