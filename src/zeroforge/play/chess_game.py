"""Chess in a match between UCI engines (the `chess` game of `play.match`): its settings (the
openings and the adjudication, from a config's `chess:` mapping), their fingerprint, and one game.

Fresh engine processes for both sides (`ucinewgame`, options from their specs), the opening of
the game's pair (`play.openings`), then each side searches its own limit (`go nodes/depth/
movetime`) on `position fen START moves ...` until the game ends by the rules, the ply cap or
the optional score adjudication (`play.chessrules`; a side's score is its own engine's, from the
side to move). The PGN goes to `games/game-NNNN.pgn` (with the start FEN and the reason).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chess
import chess.pgn

from zeroforge.atomic import atomic_write_text
from zeroforge.play.chessrules import Adjudication, Ending, legal_move, rules_ending
from zeroforge.play.game import GameAborted, IllegalReply, MatchError, PlannedGame, Stop
from zeroforge.play.openings import BookError, Openings
from zeroforge.play.process import EngineFailure
from zeroforge.play.uci import UCIEngine, UCIError

if TYPE_CHECKING:  # annotations only: the match driver imports the games
    from zeroforge.play.match import Match

STARTUP_TIMEOUT = 60.0
CHESS_KEYS = {"book", "random_plies", "seed", *Adjudication.__dataclass_fields__}


class ChessMatchGame:
    """Chess's side of the match seam (`play.game.MatchGame`): settings in a `chess:` mapping."""

    name = "chess"
    protocol = "uci"
    config_keys = ("chess",)

    def prepare(self, match: Match) -> None:
        if match.handicap:
            raise MatchError("handicap stones are a Go setting; a chess match has none")
        match.openings = match.openings or Openings()
        match.adjudication = match.adjudication or Adjudication()

    def fingerprint(self, match: Match) -> dict[str, Any]:
        return {
            "game": "chess",
            "openings": match.openings.fingerprint(),
            "adjudication": match.adjudication.to_dict(),
        }

    def settings(self, raw: dict[str, Any], where: Path | str) -> dict[str, Any]:
        return chess_settings(raw.get("chess"), where)

    def play_game(self, match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
        return play_game(match, game, stop)


CHESS = ChessMatchGame()


def chess_settings(raw: Any, where: Any) -> dict[str, Any]:
    """`openings` and `adjudication` of a match from a `chess:` mapping (keys: book,
    random_plies, seed and those of chessrules.Adjudication); {} when absent."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MatchError(f"{where}: `chess` must be a mapping")
    unknown = sorted(set(raw) - CHESS_KEYS)
    if unknown:
        raise MatchError(f"{where}: unknown chess key(s) {unknown}; known: {sorted(CHESS_KEYS)}")
    book = raw.get("book", Openings.book)
    if book is not None and isinstance(where, Path) and not Path(book).is_absolute():
        book = str(where.parent / book)
    try:
        openings = Openings(book, int(raw.get("random_plies", 0)), int(raw.get("seed", 0)))
        rules = {k: raw[k] for k in Adjudication.__dataclass_fields__ if k in raw}
        return {"openings": openings, "adjudication": Adjudication(**rules)}
    except (BookError, TypeError, ValueError) as err:
        raise MatchError(f"{where}: {err}") from None


def play_game(match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
    """Play one game, write its PGN, return its record (an error record if an engine failed)."""
    started = time.monotonic()
    fen, opening = match.openings.opening(game.round // 2)
    board = chess.Board(fen)
    for move in opening:
        board.push_uci(move)
    record: dict[str, Any] = {"game": game.game, "black": game.black, "white": game.white}
    ending = None
    try:
        ending = _play_moves(match, game, board, stop)
    except (EngineFailure, UCIError, IllegalReply) as err:
        record["error"] = str(err).split("\n")[0]
        record["stderr_tail"] = getattr(err, "stderr_tail", "")
    winner = ending.winner if ending else None
    record.update(
        result=ending.result if ending else None,
        reason=ending.reason if ending else "error",
        moves=len(board.move_stack) - len(opening),
        opening=fen,
        winner=None if winner is None else (game.white if winner == chess.WHITE else game.black),
        seconds=round(time.monotonic() - started, 3),
        pgn=f"games/game-{game.game:04d}.pgn",
    )
    _write_pgn(match, game, board, record)
    return record


def _play_moves(match: Match, game: PlannedGame, board: chess.Board, stop: Stop) -> Ending:
    engines: dict[bool, UCIEngine] = {}
    start_fen = board.root().fen()
    with stop.game(engines):
        for colour, name in ((chess.WHITE, game.white), (chess.BLACK, game.black)):
            engines[colour] = _start(match, name, colour, game.game, stop)
        tracker = match.adjudication.tracker()
        played = len(board.move_stack)  # the opening's random plies do not count
        ending = rules_ending(board)
        while ending is None:
            if stop.is_set():
                raise GameAborted
            engine = engines[board.turn]
            spec = match.players[game.white if board.turn == chess.WHITE else game.black]
            engine.position(start_fen, [m.uci() for m in board.move_stack])
            search = engine.go(spec.search_limits(), timeout=match.move_timeout)
            move = legal_move(board, search.bestmove, engine.name, IllegalReply)
            adjudged = tracker.add(board, search.score.value() if search.score else None)
            board.push(move)
            ending = rules_ending(board) or adjudged or tracker.cap(len(board.move_stack) - played)
        return ending


def _start(match: Match, name: str, colour: bool, game: int, stop: Stop) -> UCIEngine:
    if stop.is_set():
        raise GameAborted
    spec = match.players[name]
    side = "white" if colour == chess.WHITE else "black"
    engine = UCIEngine(
        spec.argv(game),
        name=f"{name} ({side}, game {game})",
        options=spec.uci_options(),
        startup_timeout=max(STARTUP_TIMEOUT, match.move_timeout),
    )
    stop.watch(engine)
    try:
        engine.new_game(max(STARTUP_TIMEOUT, match.move_timeout))
    except BaseException:
        stop.forget(engine)
        engine.close(timeout=1)
        raise
    return engine


def _write_pgn(match: Match, game: PlannedGame, board: chess.Board, record: dict) -> None:
    pgn = chess.pgn.Game.from_board(board)
    pgn.headers.update(
        Event="zeroforge match",
        Site="?",
        Round=str(game.game + 1),
        White=game.white,
        Black=game.black,
        Result=record["result"] or "*",
        Termination=record["reason"],
    )
    if "error" in record:
        pgn.comment = record["error"]
    atomic_write_text(match.out / record["pgn"], str(pgn) + "\n")
