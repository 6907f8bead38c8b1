"""Go in a match between GTP engines (the `go` game of `play.match`): its settings (komi, the
move cap, GNU Go's scoring level), their fingerprint, and one game.

Fresh engine processes for both sides (a crash cannot leak into the next game; the seed of
each is the spec's seed plus the game id), `boardsize 19`, `clear_board`, `komi`, then
`genmove`/`play` until a resignation, two passes in a row, or the move cap. Games that did not
end by resignation are scored by GNU Go under Chinese rules (`play.scoring`): `final_score`
after two passes (its estimate if the play-out behind final_score runs past 120 s),
`estimate_score` at the move cap; the record's `scoring` says which. The SGF goes to
`games/game-NNNN.sgf`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, move_to_vertex, vertex_to_move
from zeroforge.play.game import GameAborted, IllegalReply, PlannedGame, Stop
from zeroforge.play.gtp import EngineFailure, EngineTimeout, GTPEngine, GTPError
from zeroforge.play.scoring import SCORER_LEVEL, result_winner, score_game

if TYPE_CHECKING:  # annotations only: the match driver imports the games
    from zeroforge.play.match import Match

DEFAULT_KOMI = 7.5
DEFAULT_MAX_MOVES = 600  # random leelaz nets rarely pass (docs/ENGINES.md#leelaz)

STARTUP_TIMEOUT = 120.0  # the first reply waits for leelaz to load its weights
FINAL_SCORE_TIMEOUT = 120.0  # GNU Go's final_score may play a position out (play.scoring)


class GoMatchGame:
    """Go's side of the match seam (`play.game.MatchGame`): settings are top-level config keys."""

    name = "go"
    protocol = "gtp"
    config_keys = ("komi", "max_moves", "scorer_level")

    def prepare(self, match: Match) -> None:
        pass

    def fingerprint(self, match: Match) -> dict[str, Any]:
        return {"komi": match.komi, "max_moves": match.max_moves}

    def settings(self, raw: dict[str, Any], where: Path | str) -> dict[str, Any]:
        return {
            "komi": float(raw.get("komi", DEFAULT_KOMI)),
            "max_moves": int(raw.get("max_moves", DEFAULT_MAX_MOVES)),
            "scorer_level": int(raw.get("scorer_level", SCORER_LEVEL)),
        }

    def play_game(self, match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
        return play_game(match, game, stop)


GO = GoMatchGame()


@dataclass
class GameState:
    moves: list[tuple[str, int]] = field(default_factory=list)
    result: str | None = None
    reason: str = ""
    scoring: str | None = None  # how GNU Go scored it: final_score or estimate_score


def play_game(match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
    """Play one game, write its SGF, return its record (an error record if an engine failed)."""
    started = time.monotonic()
    state = GameState()
    record: dict[str, Any] = {"game": game.game, "black": game.black, "white": game.white}
    try:
        _play_moves(match, game, state, stop)
        if state.result is None:
            _score(match, state)
    except (EngineFailure, GTPError, IllegalReply) as err:
        record["error"] = str(err).split("\n")[0]
        record["stderr_tail"] = getattr(err, "stderr_tail", "")
        state.reason = "error"
    winner = result_winner(state.result) if state.result else None
    record.update(
        result=state.result,
        reason=state.reason,
        scoring=state.scoring,
        moves=len(state.moves),
        winner={"b": game.black, "w": game.white}.get(winner) if winner else None,
        seconds=round(time.monotonic() - started, 3),
        sgf=f"games/game-{game.game:04d}.sgf",
    )
    comment = f"zeroforge match game {game.game}: {state.reason}"
    if "error" in record:
        comment += f"\n{record['error']}"
    write_game(
        match.out / record["sgf"],
        GameRecord(
            moves=state.moves,
            black=game.black,
            white=game.white,
            komi=match.komi,
            result=state.result,
            comment=comment,
        ),
    )
    return record


def _score(match: Match, state: GameState) -> None:
    """GNU Go's final_score for a game ended by passes (falling back to its estimate if the
    play-out behind final_score runs past FINAL_SCORE_TIMEOUT), the estimate otherwise."""
    if state.reason == "passes":
        try:
            state.result = score_game(
                state.moves, match.komi, timeout=FINAL_SCORE_TIMEOUT, level=match.scorer_level
            )
            state.scoring = "final_score"
            return
        except EngineTimeout:
            pass
    state.result = score_game(
        state.moves,
        match.komi,
        timeout=max(60.0, match.move_timeout),
        level=match.scorer_level,
        finished=False,
    )
    state.scoring = "estimate_score"


def _play_moves(match: Match, game: PlannedGame, state: GameState, stop: Stop) -> None:
    engines: dict[str, GTPEngine] = {}
    with stop.game(engines):
        for colour, name in (("b", game.black), ("w", game.white)):
            engines[colour] = _start(match, name, colour, game.game, stop)
        passes = 0
        for colour in itertools.islice(itertools.cycle("bw"), match.max_moves):
            reply = engines[colour].send(f"genmove {colour}", match.move_timeout).lower()
            if reply == "resign":
                state.result, state.reason = f"{'W' if colour == 'b' else 'B'}+R", "resign"
                return
            try:
                move = vertex_to_move(reply)
            except ValueError:
                raise IllegalReply(
                    f"{engines[colour].name} answered genmove with {reply!r}"
                ) from None
            other = engines["w" if colour == "b" else "b"]
            other.send(f"play {colour} {move_to_vertex(move)}", match.move_timeout)
            state.moves.append((colour, move))
            passes = passes + 1 if move == PASS else 0
            if passes == 2:
                state.reason = "passes"
                return
        state.reason = "move_cap"


def _start(match: Match, name: str, colour: str, game: int, stop: Stop) -> GTPEngine:
    if stop.is_set():
        raise GameAborted
    side = "black" if colour == "b" else "white"
    engine = GTPEngine(match.players[name].argv(game), name=f"{name} ({side}, game {game})")
    stop.watch(engine)
    try:
        for command in ("boardsize 19", "clear_board", f"komi {match.komi}"):
            engine.send(command, max(STARTUP_TIMEOUT, match.move_timeout))
    except BaseException:
        stop.forget(engine)
        engine.close(timeout=1)
        raise
    return engine
