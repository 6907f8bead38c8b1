"""Matches between engines: the schedule, and running a whole match in parallel, resumably.
One driver for both games; what differs per game sits behind one seam, a `MatchGame`
(`play.game`: the engines' protocol, the game's settings and their fingerprint, `play_game(match,
planned_game, stop) -> record`), looked up in `GAMES`: `play.go_game` (GTP engines, komi and the
move cap, SGF, GNU Go scoring) and `play.chess_game` (UCI engines, openings, adjudication, PGN).

A match directory holds `match.json` (what was asked: players, schedule, and for Go komi, the
move cap and the handicap stones when there are any, for chess the openings and the
adjudication: the game's `fingerprint`; a rerun must agree with it),
`results.jsonl` (one line per finished game, see `play.results`), `games/game-NNNN.sgf` or
`.pgn`, and `summary.json` / `summary.md` (see `play.summary`). A rerun of the same match plays
only the game ids missing from `results.jsonl`, so no game is lost or played twice, also after
`kill -9`, and replays the games whose newest record is an error (a crashed engine, a timeout:
the error record stays in the file, the new one counts).

An engine that dies, hangs past the move timeout, answers nonsense or refuses a move ends that
game as an error, recorded with the engine's stderr tail; the match goes on. Games run on a
thread pool: the threads only wait on engine processes, so threads are enough for parallelism.
The game is the one whose protocol every player speaks (chess: UCI), else Go.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeroforge.atomic import atomic_write_text, temp_dir
from zeroforge.play import chess_game, go_game, interrupt
from zeroforge.play.chessrules import Adjudication
from zeroforge.play.game import GameAborted, MatchError, MatchGame, PlannedGame, Stop
from zeroforge.play.openings import Openings
from zeroforge.play.ratings import Sprt
from zeroforge.play.results import ResultsLog
from zeroforge.play.scoring import SCORER_LEVEL
from zeroforge.play.specs import EngineSpec, SpecError, load_yaml, make_spec
from zeroforge.play.summary import pair_result

DEFAULT_MOVE_TIMEOUT = 120.0
SCHEDULES = ("pair", "gauntlet", "round_robin")
GAMES: dict[str, MatchGame] = {game.name: game for game in (go_game.GO, chess_game.CHESS)}
DEFAULT_GAME = "go"  # players of mixed protocols: the match refuses the strangers
CONFIG_KEYS = {
    "players",
    "schedule",
    "games",
    "move_timeout",
    "workers",
    "out",
    "sprt",
    "game",
    *(key for game in GAMES.values() for key in game.config_keys),
}


def core_count() -> int:
    """Cores this process may run on (respects CPU affinity, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Match:
    players: dict[str, EngineSpec]
    out: Path
    games: int = 2
    schedule: str = "pair"
    komi: float | None = None  # Go's settings (play.go_game): default 7.5, 0.5 with handicap
    handicap: int = 0  # stones for the first player of each pairing, Black in every game
    max_moves: int = go_game.DEFAULT_MAX_MOVES
    move_timeout: float = DEFAULT_MOVE_TIMEOUT
    workers: int = field(default_factory=lambda: core_count())
    sprt: Sprt | None = None
    scorer_level: int = SCORER_LEVEL
    game: str | None = None  # a name in GAMES; None: from the players' protocol
    openings: Openings | None = None  # chess's settings (play.chess_game): default the book
    adjudication: Adjudication | None = None  # chess: default the rules and a 400-ply cap

    def __post_init__(self):
        protocols = {spec.protocol for spec in self.players.values()}
        if self.game is None:
            spoken = [g.name for g in GAMES.values() if protocols == {g.protocol}]
            self.game = spoken[0] if spoken else DEFAULT_GAME
        if self.game not in GAMES:
            raise MatchError(f"game must be one of {tuple(GAMES)}, got {self.game!r}")
        wanted = GAMES[self.game].protocol
        strangers = [n for n, s in self.players.items() if s.protocol != wanted]
        if strangers:
            raise MatchError(
                f"a {self.game} match needs {wanted.upper()} engines; {strangers} "
                f"speak{'s' if len(strangers) == 1 else ''} another protocol"
            )
        GAMES[self.game].prepare(self)
        if self.schedule not in SCHEDULES:
            raise MatchError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if len(self.players) < 2 or (self.schedule == "pair" and len(self.players) != 2):
            raise MatchError(
                f"schedule {self.schedule} with {len(self.players)} players: a pair "
                "needs exactly 2, a gauntlet or round robin at least 2"
            )
        if self.games < 1 or self.max_moves < 1 or self.workers < 1 or self.move_timeout <= 0:
            raise MatchError("games, max_moves, workers and move_timeout must be positive")

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed match must agree on (games, workers, SPRT and timeouts may change)."""
        common = {
            "players": {n: s.identity() for n, s in self.players.items()},
            "schedule": self.schedule,
        }
        return {**common, **GAMES[self.game].fingerprint(self)}

    def pairings(self) -> list[tuple[str, str]]:
        names = list(self.players)
        if self.schedule == "round_robin":
            return list(itertools.combinations(names, 2))
        return [(names[0], other) for other in names[1:]]

    def planned(self) -> list[PlannedGame]:
        """Every game of the match; within a pairing the colours alternate, except in handicap
        games, where the first player takes Black (and the stones) every time."""
        plan = []
        for a, b in self.pairings():
            for k in range(self.games):
                black, white = (a, b) if k % 2 == 0 or self.handicap else (b, a)
                plan.append(PlannedGame(len(plan), black, white, k))
        return plan


# --- configuration ------------------------------------------------------------------------


def load_match(path: Path, overrides: dict[str, Any]) -> Match:
    """A match from a YAML config; `overrides` (non-None values) win over the file."""
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise MatchError(f"{path}: a match config must be a mapping")
    unknown = sorted(set(raw) - CONFIG_KEYS)
    if unknown:
        raise MatchError(f"{path}: unknown key(s) {unknown}; known: {sorted(CONFIG_KEYS)}")
    for key, value in overrides.items():
        if isinstance(value, dict):  # a game's flags amend its mapping in the file (`chess:`)
            if value:
                raw[key] = {**(raw.get(key) or {}), **value}
        elif value is not None:
            raw[key] = value
    players = _players(raw.get("players"), path)
    out = Path(raw.get("out") or path.with_suffix(""))
    if not out.is_absolute() and overrides.get("out") is None:  # relative to the config
        out = path.parent / out
    sprt = raw.get("sprt")
    try:
        return Match(
            players=players,
            out=out,
            games=int(raw.get("games", 2)),
            schedule=raw.get("schedule", "pair" if len(players) == 2 else "round_robin"),
            move_timeout=float(raw.get("move_timeout", DEFAULT_MOVE_TIMEOUT)),
            workers=int(raw.get("workers") or core_count()),
            sprt=Sprt(**sprt) if isinstance(sprt, dict) else sprt,
            game=raw.get("game"),
            **{k: v for game in GAMES.values() for k, v in game.settings(raw, path).items()},
        )
    except (TypeError, ValueError) as err:
        raise MatchError(f"{path}: {err}") from None


def _players(raw: Any, path: Path) -> dict[str, EngineSpec]:
    if isinstance(raw, dict):
        items = [
            (
                {**spec, "name": spec.get("name", name)} if isinstance(spec, dict) else spec,
                f"{path}: players.{name}",
            )
            for name, spec in raw.items()
        ]
    elif isinstance(raw, list):
        items = [(spec, f"{path}: players[{i}]") for i, spec in enumerate(raw)]
    else:
        raise MatchError(f"{path}: `players` must be a mapping of name -> engine spec or a list")
    return unique_players([make_spec(spec, where, path.parent) for spec, where in items])


def unique_players(specs: list[EngineSpec]) -> dict[str, EngineSpec]:
    """Players by name; equal default names get `-2`, `-3`, ... (gnugo against gnugo)."""
    players: dict[str, EngineSpec] = {}
    for spec in specs:
        name, n = spec.name, 1
        while name in players:
            n += 1
            name = f"{spec.name}-{n}"
        spec.name = name
        players[name] = spec
    return players


def check_directory(match: Match) -> None:
    """Create the match directory or check that it holds this same match."""
    (match.out / "games").mkdir(parents=True, exist_ok=True)
    stamp = match.out / "match.json"
    wanted = match.fingerprint()
    if stamp.exists():
        try:
            found = json.loads(stamp.read_text())
        except (OSError, ValueError) as err:
            raise MatchError(f"{stamp}: unreadable ({err})") from None
        if found != wanted:
            diff = sorted(k for k in {*wanted, *found} if found.get(k) != wanted.get(k))
            raise MatchError(
                f"{match.out} holds a different match ({', '.join(diff)} differ, "
                f"see {stamp}); use another output directory"
            )
        return
    write_json_atomic(stamp, wanted)


def write_json_atomic(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# --- the whole match ----------------------------------------------------------------------


def run_match(match: Match, on_result=None) -> list[dict[str, Any]]:
    """Play every game of the match not yet in its results file; return all records.

    `on_result(records)` is called in the main thread with the records so far, once at the
    start and after each recorded game (progress display). A two-player match with an SPRT
    stops once it decides: games not started are dropped, games under way finish and count.
    """
    check_directory(match)
    workdir = temp_dir("zeroforge-match")  # lowercase, no spaces
    try:
        for spec in match.players.values():
            spec.prepare(workdir)
        with ResultsLog(match.out / "results.jsonl") as log:
            if on_result:
                on_result(log.current())
            done = {r["game"] for r in log.current() if not r.get("error")}
            todo = [g for g in match.planned() if g.game not in done]
            if todo and not sprt_decided(match, log.current()):
                _run_games(match, todo, log, on_result)
            return log.current()
    except SpecError as err:
        raise MatchError(str(err)) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def sprt_decided(match: Match, records: list[dict[str, Any]]) -> bool:
    if match.sprt is None or len(match.players) != 2:
        return False
    pair = pair_result(list(match.players)[0], records)
    return match.sprt.state(pair.trinomial())["decision"] is not None


def _run_games(match: Match, todo: list[PlannedGame], log: ResultsLog, on_result) -> None:
    stop = Stop()
    with ThreadPoolExecutor(max_workers=min(match.workers, len(todo))) as pool:
        play_game = GAMES[match.game].play_game
        futures = [pool.submit(play_game, match, g, stop) for g in todo]
        try:
            for future in interrupt.as_finished(futures):
                if future.cancelled():
                    continue
                try:
                    record = future.result()
                except GameAborted:
                    continue
                log.append(record)
                if on_result:
                    on_result(log.current())
                if sprt_decided(match, log.current()):
                    for other in futures:  # a finished one ignores it
                        other.cancel()
        except BaseException:  # Ctrl-C, SIGTERM: stop games under way, record nothing more
            stop.set()
            for other in futures:
                other.cancel()
            raise
