"""Go in a match between GTP engines (the `go` game of `play.match`): its settings (komi,
handicap stones, the move cap, GNU Go's scoring level), their fingerprint, and one game.

Fresh engine processes for both sides (a crash cannot leak into the next game; the seed of
each is the spec's seed plus the game id), `boardsize 19`, `clear_board`, `komi`, then
`genmove`/`play` until a resignation, two passes in a row, or the move cap. Games that did not
end by resignation are scored by GNU Go under Chinese rules (`play.scoring`): `final_score`
after two passes (its estimate if the play-out behind final_score runs past 120 s),
`estimate_score` at the move cap; the record's `scoring` says which. The SGF goes to
`games/game-NNNN.sgf`.

Handicap (`handicap: N`, 2-9; 0 = even): the pairing's first player (`--black`) is Black in
every game and receives N stones; colours do not alternate, since the stones say who is the
weaker side. Both engines get GTP's `fixed_handicap N` (the star points GTP fixes for 19x19; a
pair of engines that answer different points is an error) and White moves first. Komi
defaults to 0.5 with handicap (the usual handicap komi: no jigo), 7.5 without. The SGF gets HA
and the stones as AB; the scorer is given the stones as handicap (`set_free_handicap`), so
GNU Go's Chinese count gives White its compensation of one point per stone
(docs/ENGINES.md#gnu-go).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, move_to_vertex, vertex_to_move
from zeroforge.play.game import GameAborted, IllegalReply, MatchError, PlannedGame, Stop
from zeroforge.play.gtp import EngineFailure, EngineTimeout, GTPEngine, GTPError
from zeroforge.play.scoring import SCORER_LEVEL, result_winner, score_game

if TYPE_CHECKING:  # annotations only: the match driver imports the games
    from zeroforge.play.match import Match

DEFAULT_KOMI = 7.5
HANDICAP_KOMI = 0.5  # with handicap stones: half a point for White, so no jigo
HANDICAPS = range(2, 10)  # GTP's fixed_handicap on 19x19 (both engines refuse 1 and 10)
DEFAULT_MAX_MOVES = 600  # random leelaz nets rarely pass (docs/ENGINES.md#leelaz)

STARTUP_TIMEOUT = 120.0  # the first reply waits for leelaz to load its weights
FINAL_SCORE_TIMEOUT = 120.0  # GNU Go's final_score may play a position out (play.scoring)


class GoMatchGame:
    """Go's side of the match seam (`play.game.MatchGame`): settings are top-level config keys."""

    name = "go"
    protocol = "gtp"
    config_keys = ("komi", "handicap", "max_moves", "scorer_level")

    def prepare(self, match: Match) -> None:
        if match.handicap != 0 and match.handicap not in HANDICAPS:
            raise MatchError(f"handicap must be 0 (even) or 2-9 stones, got {match.handicap}")
        if match.komi is None:
            match.komi = HANDICAP_KOMI if match.handicap else DEFAULT_KOMI

    def fingerprint(self, match: Match) -> dict[str, Any]:
        # `handicap` only when there are stones: even matches keep the fingerprint they had
        handicap = {"handicap": match.handicap} if match.handicap else {}
        return {"komi": match.komi, "max_moves": match.max_moves, **handicap}

    def settings(self, raw: dict[str, Any], where: Path | str) -> dict[str, Any]:
        komi = raw.get("komi")
        return {
            "komi": None if komi is None else float(komi),
            "handicap": int(raw.get("handicap", 0)),
            "max_moves": int(raw.get("max_moves", DEFAULT_MAX_MOVES)),
            "scorer_level": int(raw.get("scorer_level", SCORER_LEVEL)),
        }

    def play_game(self, match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
        return play_game(match, game, stop)


GO = GoMatchGame()


@dataclass
class GameState:
    moves: list[tuple[str, int]] = field(default_factory=list)
    handicap_stones: list[int] = field(default_factory=list)
    result: str | None = None
    reason: str = ""
    scoring: str | None = None  # how GNU Go scored it: final_score or estimate_score


def play_game(match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
    """Play one game, write its SGF, return its record (an error record if an engine failed)."""
    started = time.monotonic()
    state = GameState()
    record: dict[str, Any] = {"game": game.game, "black": game.black, "white": game.white}
    if match.handicap:
        record["handicap"] = match.handicap
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
            handicap_stones=state.handicap_stones,
        ),
    )
    return record


def _score(match: Match, state: GameState) -> None:
    """GNU Go's final_score for a game ended by passes (falling back to its estimate if the
    play-out behind final_score runs past FINAL_SCORE_TIMEOUT), the estimate otherwise."""
    if state.reason == "passes":
        try:
            state.result = score_game(
                state.moves,
                match.komi,
                state.handicap_stones,
                timeout=FINAL_SCORE_TIMEOUT,
                level=match.scorer_level,
            )
            state.scoring = "final_score"
            return
        except EngineTimeout:
            pass
    state.result = score_game(
        state.moves,
        match.komi,
        state.handicap_stones,
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
        if match.handicap:
            state.handicap_stones = _place_handicap(match, engines)
        passes = 0
        order = "wb" if state.handicap_stones else "bw"  # White moves first after the stones
        for colour in itertools.islice(itertools.cycle(order), match.max_moves):
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


def _place_handicap(match: Match, engines: dict[str, GTPEngine]) -> list[int]:
    """`fixed_handicap N` to both engines; the stones (move indices) both answered."""
    placed = {}
    for colour, engine in engines.items():
        reply = engine.send(f"fixed_handicap {match.handicap}", match.move_timeout)
        try:
            placed[colour] = sorted(vertex_to_move(v) for v in reply.split())
        except ValueError:
            raise IllegalReply(f"{engine.name} answered fixed_handicap with {reply!r}") from None
    if len(placed["b"]) != match.handicap or placed["b"] != placed["w"]:
        raise IllegalReply(
            f"fixed_handicap {match.handicap}: {engines['b'].name} placed "
            f"{_vertices(placed['b'])}, {engines['w'].name} {_vertices(placed['w'])}"
        )
    return placed["b"]


def _vertices(moves: list[int]) -> str:
    return " ".join(move_to_vertex(m) for m in moves) or "nothing"


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
