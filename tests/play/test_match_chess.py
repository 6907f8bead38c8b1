"""Chess matches against the real Stockfish at tiny node counts (a game takes a second or two)."""

import io
import json

import chess
import chess.pgn
import pytest

from zeroforge.commands import match as match_command
from zeroforge.play.chessrules import Adjudication
from zeroforge.play.engines import have_engine
from zeroforge.play.match import Match, MatchError, load_match, run_match, unique_players
from zeroforge.play.openings import DEFAULT_BOOK, BookError, Openings, load_book
from zeroforge.play.results import read_results
from zeroforge.play.specs import SpecError, parse_flag

stockfish = pytest.mark.skipif(not have_engine("stockfish"), reason="stockfish not installed")


def chess_match(tmp_path, black: str, white: str, **options) -> Match:
    players = unique_players([parse_flag(black), parse_flag(white)])
    return Match(players=players, out=tmp_path / "m", workers=2, **options)


def replay(pgn_path) -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(pgn_path.read_text()))
    assert game is not None and not game.errors
    return game


def test_the_shipped_book_and_openings():
    fens = load_book(DEFAULT_BOOK)
    assert len(fens) >= 40 and len(set(fens)) == len(fens)
    openings = Openings(random_plies=2, seed=3)
    fen, moves = openings.opening(5)
    assert fen == fens[8] and len(moves) == 2 and openings.opening(5) == (fen, moves)
    assert Openings(book=None).opening(0) == (chess.STARTING_FEN, [])


def test_bad_books_name_the_line(tmp_path):
    book = tmp_path / "b.epd"
    book.write_text("# comment\n\nrnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq -\nxyz\n")
    with pytest.raises(BookError, match=r"b.epd: line 4: not a FEN or EPD"):
        load_book(book)
    book.write_text("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1\n")  # stalemate
    with pytest.raises(BookError, match="line 1: not a playable position"):
        load_book(book)


def test_uci_specs(tmp_path):
    spec = parse_flag("stockfish:nodes=10,use_nnue=false,elo=1500,hash=8")
    assert spec.protocol == "uci" and spec.name == "sf-classical-elo1500-n10"
    assert spec.search_limits() == {"nodes": 10}
    assert spec.uci_options() == {
        "Threads": 1,
        "Hash": 8,
        "Use NNUE": False,
        "UCI_LimitStrength": True,
        "UCI_Elo": 1500,
    }
    spec = parse_flag("fast=uci:depth=2:/usr/games/stockfish")
    assert (spec.name, spec.options["command"], spec.search_limits()) == (
        "fast",
        ["/usr/games/stockfish"],
        {"depth": 2},
    )
    yaml_spec = tmp_path / "sf.yaml"
    yaml_spec.write_text("kind: uci\ncommand: sf --x\nmovetime: 5\noptions: {Skill Level: 3}\n")
    spec = parse_flag(str(yaml_spec))
    assert spec.uci_options() == {"Skill Level": 3} and spec.options["command"] == ["sf", "--x"]
    assert parse_flag("uci:depth=1:/opt/my engine:1").options["command"] == ["/opt/my", "engine:1"]
    with pytest.raises(SpecError, match="needs nodes, depth or movetime"):
        parse_flag("uci:/opt/my engine:1")
    with pytest.raises(SpecError, match="needs nodes, depth or movetime"):
        parse_flag("stockfish")
    with pytest.raises(SpecError, match="elo must lie in"):
        parse_flag("stockfish:nodes=1,elo=100")
    with pytest.raises(SpecError, match="evalfile .*does not exist"):
        parse_flag(f"stockfish:nodes=1,evalfile={tmp_path / 'none.nnue'}")
    with pytest.raises(MatchError, match="needs UCI engines"):
        chess_match(tmp_path, "stockfish:nodes=1", "gnugo:level=1", game="chess")


@pytest.mark.engine
@stockfish
def test_stockfish_match_plays_legal_games_with_shared_openings_and_resumes(tmp_path):
    match = chess_match(
        tmp_path,
        "stockfish:nodes=40",
        "stockfish:nodes=40,use_nnue=false",
        games=4,
        adjudication=Adjudication(max_plies=120, resign_score=1500, resign_plies=2),
    )
    assert match.game == "chess"
    records = sorted(run_match(match), key=lambda r: r["game"])
    assert [r["game"] for r in records] == [0, 1, 2, 3]
    book = load_book(DEFAULT_BOOK)
    for record in records:
        assert not record.get("error"), record
        game = replay(match.out / record["pgn"])
        assert game.headers["FEN"] == record["opening"] == book[record["game"] // 2]
        assert (game.headers["White"], game.headers["Black"]) == (record["white"], record["black"])
        assert game.headers["Result"] == record["result"]
        board = game.end().board()  # python-chess replays and checks every move
        assert len(board.move_stack) == record["moves"] <= 120
        if record["reason"] == "checkmate":
            assert board.is_checkmate()
        winner = {"1-0": record["white"], "0-1": record["black"]}.get(record["result"])
        assert record["winner"] == winner
    # each opening is played once with each engine as white
    assert (
        records[0]["white"] == records[1]["black"]
        and records[0]["opening"] == records[1]["opening"]
    )
    match.games = 6
    more = run_match(match)
    assert sorted(r["game"] for r in more) == list(range(6))
    other = chess_match(
        tmp_path,
        "stockfish:nodes=40",
        "stockfish:nodes=40,use_nnue=false",
        games=4,
        adjudication=Adjudication(max_plies=100),
    )
    with pytest.raises(MatchError, match="adjudication"):
        run_match(other)


@pytest.mark.engine
@stockfish
def test_match_command_with_a_config_an_evalfile_and_random_plies(tmp_path, capsys):
    from tests.analysis.stockfish_net import export_stockfish_net

    net = export_stockfish_net(tmp_path)
    config = tmp_path / "m.yaml"
    config.write_text(
        "players:\n"
        f"  net: {{kind: stockfish, evalfile: {net.name}, nodes: 20}}\n"
        "  classic: {kind: stockfish, use_nnue: false, nodes: 20}\n"
        "games: 2\nworkers: 2\nout: out\n"
        "chess: {book: null, random_plies: 4, seed: 7, max_plies: 60}\n"
    )
    assert match_command.main([str(config), "--json", "--resign-score", "3000"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["games"] == 2 and summary["errors"] == 0 and summary["game"] == "chess"
    stamp = json.loads((tmp_path / "out" / "match.json").read_text())
    assert stamp["players"]["net"]["evalfile_sha256"].startswith("ad9b42354671")
    assert stamp["openings"]["book_sha256"] is None and stamp["adjudication"]["max_plies"] == 60
    assert stamp["adjudication"]["resign_score"] == 3000  # the flag amends the file
    match = load_match(config, {})
    assert match.openings.opening(0)[0] == chess.STARTING_FEN
    for record in read_results(tmp_path / "out" / "results.jsonl"):
        game = replay(tmp_path / "out" / record["pgn"])
        assert "FEN" not in game.headers  # the start position
        assert len(game.end().board().move_stack) == record["moves"] + 4  # random plies first
