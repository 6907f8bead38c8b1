"""Matches between engines: the schedule, and running a whole match in parallel, resumably.
One driver for both games; what differs per game sits behind one seam, `play_game(match,
planned_game, stop) -> record`: `play.go_game` (GTP engines, SGF, GNU Go scoring) and
`play.chess_game` (UCI engines, openings, adjudication, PGN).

A match directory holds `match.json` (what was asked: players, schedule, and for Go komi and
the move cap, for chess the openings and the adjudication; a rerun must agree with it),
`results.jsonl` (one line per finished game, see `play.results`), `games/game-NNNN.sgf` or
`.pgn`, and `summary.json` / `summary.md` (see `play.summary`). A rerun of the same match plays
only the game ids missing from `results.jsonl`, so no game is lost or played twice, also after
`kill -9`, and replays the games whose newest record is an error (a crashed engine, a timeout:
the error record stays in the file, the new one counts).

An engine that dies, hangs past the move timeout, answers nonsense or refuses a move ends that
game as an error, recorded with the engine's stderr tail; the match goes on. Games run on a
thread pool: the threads only wait on engine processes, so threads are enough for parallelism.
The game is chess when every player is a UCI engine, Go when every player speaks GTP.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeroforge.atomic import atomic_write_text
from zeroforge.play.chessrules import Adjudication
from zeroforge.play.openings import BookError, Openings
from zeroforge.play.process import EngineFailure, EngineProcess
from zeroforge.play.ratings import Sprt
from zeroforge.play.results import ResultsLog
from zeroforge.play.scoring import SCORER_LEVEL
from zeroforge.play.specs import EngineSpec, SpecError, load_yaml, make_spec
from zeroforge.play.summary import pair_result

DEFAULT_KOMI = 7.5
DEFAULT_MAX_MOVES = 600  # random leelaz nets rarely pass (430-723 moves, FACTS.md)
DEFAULT_MOVE_TIMEOUT = 120.0
SCHEDULES = ("pair", "gauntlet", "round_robin")
CONFIG_KEYS = {
    "players",
    "schedule",
    "games",
    "komi",
    "max_moves",
    "move_timeout",
    "workers",
    "out",
    "sprt",
    "scorer_level",
    "game",
    "chess",
}
GAMES = ("go", "chess")
CHESS_KEYS = {"book", "random_plies", "seed", *Adjudication.__dataclass_fields__}
STOP_POLL_S = 0.5


def core_count() -> int:
    """Cores this process may run on (respects CPU affinity, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class MatchError(ValueError):
    """A match that cannot be run as asked (bad config, a different match in the directory)."""


class IllegalReply(RuntimeError):
    """An engine answered with something that is not a (legal) move."""


class GameAborted(Exception):
    """The match is stopping (Ctrl-C); the game is not recorded and will be played on rerun."""


class Stop:
    """Stops a match: games check it between moves, and engines under way are killed so a
    long `genmove` cannot hold up Ctrl-C."""

    def __init__(self):
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._engines: set[EngineProcess] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        with self._lock:
            self._event.set()
            engines = list(self._engines)
        for engine in engines:
            engine.kill()

    def watch(self, engine: EngineProcess) -> None:
        with self._lock:
            self._engines.add(engine)
        if self.is_set():
            engine.kill()

    def forget(self, engine: EngineProcess) -> None:
        with self._lock:
            self._engines.discard(engine)

    @contextlib.contextmanager
    def game(self, engines: Mapping[Any, EngineProcess]) -> Iterator[None]:
        """Around one game's moves: an engine that dies because the match is stopping ends the
        game as GameAborted (replayed on rerun), and the game's engines are closed at the end."""
        try:
            yield
        except EngineFailure:
            if self.is_set():
                raise GameAborted from None
            raise
        finally:
            for engine in engines.values():
                self.forget(engine)
                engine.close(timeout=2)


@dataclass(frozen=True)
class PlannedGame:
    game: int
    black: str
    white: str
    round: int = 0  # index within its pairing: games 2k and 2k + 1 share a chess opening


@dataclass
class Match:
    players: dict[str, EngineSpec]
    out: Path
    games: int = 2
    schedule: str = "pair"
    komi: float = DEFAULT_KOMI
    max_moves: int = DEFAULT_MAX_MOVES
    move_timeout: float = DEFAULT_MOVE_TIMEOUT
    workers: int = field(default_factory=lambda: core_count())
    sprt: Sprt | None = None
    scorer_level: int = SCORER_LEVEL
    game: str | None = None  # "go" or "chess"; None: from the players' protocol
    openings: Openings | None = None  # chess: default the shipped book
    adjudication: Adjudication | None = None  # chess: default the rules and a 400-ply cap

    def __post_init__(self):
        protocols = {spec.protocol for spec in self.players.values()}
        if self.game is None:
            self.game = "chess" if protocols == {"uci"} else "go"
        if self.game not in GAMES:
            raise MatchError(f"game must be one of {GAMES}, got {self.game!r}")
        wanted = "uci" if self.game == "chess" else "gtp"
        strangers = [n for n, s in self.players.items() if s.protocol != wanted]
        if strangers:
            raise MatchError(
                f"a {self.game} match needs {wanted.upper()} engines; {strangers} "
                f"speak{'s' if len(strangers) == 1 else ''} another protocol"
            )
        if self.game == "chess":
            self.openings = self.openings or Openings()
            self.adjudication = self.adjudication or Adjudication()
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
        if self.game == "chess":
            return {
                **common,
                "game": "chess",
                "openings": self.openings.fingerprint(),
                "adjudication": self.adjudication.to_dict(),
            }
        return {**common, "komi": self.komi, "max_moves": self.max_moves}

    def pairings(self) -> list[tuple[str, str]]:
        names = list(self.players)
        if self.schedule == "round_robin":
            return list(itertools.combinations(names, 2))
        return [(names[0], other) for other in names[1:]]

    def planned(self) -> list[PlannedGame]:
        """Every game of the match; within a pairing the colours alternate."""
        plan = []
        for a, b in self.pairings():
            for k in range(self.games):
                black, white = (a, b) if k % 2 == 0 else (b, a)
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
    overrides = dict(overrides)
    chess = overrides.pop("chess", None)  # chess flags amend the file's `chess:` mapping
    if chess:
        raw["chess"] = {**(raw.get("chess") or {}), **chess}
    raw.update({k: v for k, v in overrides.items() if v is not None})
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
            komi=float(raw.get("komi", DEFAULT_KOMI)),
            max_moves=int(raw.get("max_moves", DEFAULT_MAX_MOVES)),
            move_timeout=float(raw.get("move_timeout", DEFAULT_MOVE_TIMEOUT)),
            workers=int(raw.get("workers") or core_count()),
            sprt=Sprt(**sprt) if isinstance(sprt, dict) else sprt,
            scorer_level=int(raw.get("scorer_level", SCORER_LEVEL)),
            game=raw.get("game"),
            **chess_settings(raw.get("chess"), path),
        )
    except (TypeError, ValueError) as err:
        raise MatchError(f"{path}: {err}") from None


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
            diff = sorted(k for k in wanted if found.get(k) != wanted[k])
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
    workdir = Path(tempfile.mkdtemp(prefix="zeroforge-match-"))  # lowercase, no spaces
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


def game_seam(match: Match):
    """The `play_game(match, planned_game, stop) -> record` of the match's game."""
    if match.game == "chess":
        from zeroforge.play.chess_game import play_game
    else:
        from zeroforge.play.go_game import play_game
    return play_game


def sprt_decided(match: Match, records: list[dict[str, Any]]) -> bool:
    if match.sprt is None or len(match.players) != 2:
        return False
    pair = pair_result(list(match.players)[0], records)
    return match.sprt.state(pair.trinomial())["decision"] is not None


def _run_games(match: Match, todo: list[PlannedGame], log: ResultsLog, on_result) -> None:
    stop = Stop()
    with ThreadPoolExecutor(max_workers=min(match.workers, len(todo))) as pool:
        play_game = game_seam(match)
        pending: set[Future] = {pool.submit(play_game, match, g, stop) for g in todo}
        try:
            while pending:
                finished, pending = wait(pending, timeout=STOP_POLL_S, return_when=FIRST_COMPLETED)
                for future in finished:
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
                        for other in pending:
                            other.cancel()
        except BaseException:  # Ctrl-C: stop games under way, record nothing more
            stop.set()
            for other in pending:
                other.cancel()
            raise
