"""Chess training data from the real Stockfish, as nodchip's `gensfen` makes it: Stockfish
plays itself from a randomised opening (uniformly random legal moves on the first plies, or on
K plies drawn among the first N as nodchip's random_move_count/maxply do; seeded per game), every
position where the engine moves gets a fixed-depth or fixed-nodes search (its score, side to
move's view, in Stockfish's internal units; mates as VALUE_MATE minus plies; VALUE_NONE when the
search printed no score), the search's move is played, and once the game ends (`play.chessrules`)
every position gets the result from its side to move's view (1 / 0 / -1).

One game is one unit of work: `play_game` on a worker's engine returns its positions; the
driver (`run`, in the main process) appends each finished game to the output as ONE write, then
records it in the sidecar log `OUT.gensfen.jsonl` (game id, byte offset where the game ends,
counts). A rerun reads the log, cuts off anything written after the last logged game (a game
written but not logged is played again), and plays only the missing game ids; `OUT.gensfen.json`
holds the settings a rerun must agree with. Game `g` is the same game on every run: its random
moves come from `random.Random(f"{seed}:{g}")` and `ucinewgame` clears Stockfish's hash before it
(one search thread, node or depth limits: Stockfish is then deterministic).

Filters, as nnue-pytorch's loader applies them (positions in check, positions whose best move
is a capture, positions without a score), are counted always and applied only when asked.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import chess

from zeroforge.atomic import atomic_write_text
from zeroforge.chess.records import VALUE_NONE, TrainingRecord, record_from_board
from zeroforge.formats import binpack, plain, sfbin
from zeroforge.play import interrupt
from zeroforge.play.chessrules import Adjudication, Ending, legal_move, rules_ending
from zeroforge.play.engines import resolve_binary
from zeroforge.play.process import EngineFailure
from zeroforge.play.results import ResultsError, ResultsLog
from zeroforge.play.uci import UCIEngine, UCIError

DEFAULT_RANDOM_PLIES = 8
SEARCH_TIMEOUT = 120.0
FILTERS = ("in_check", "capture", "value_none")
FORMATS = ("binpack", "bin", "plain")  # formats/binpack.py, sfbin.py, plain.py


class GensfenError(ValueError):
    """Settings or an output file that cannot be used; the message names the file."""


@dataclass
class GensfenConfig:
    limits: dict[str, int]  # {"depth": 8} or {"nodes": 5000}
    random_plies: int = DEFAULT_RANDOM_PLIES  # the window of plies with random moves
    random_moves: int | None = None  # random moves in that window (None: every ply)
    write_min_ply: int = 0  # positions before this ply are played but not recorded
    seed: int = 0
    adjudication: Adjudication = field(default_factory=Adjudication)
    skip: tuple[str, ...] = ()  # a subset of FILTERS
    binary: str = "stockfish"
    options: dict[str, Any] = field(default_factory=dict)  # UCI options (Threads is 1)
    fmt: str = "binpack"

    def __post_init__(self):
        if len(self.limits) != 1 or next(iter(self.limits)) not in ("depth", "nodes"):
            raise GensfenError(f"give one search limit, depth or nodes, got {self.limits}")
        if min(self.limits.values()) < 1:
            raise GensfenError(f"the search limit must be positive, got {self.limits}")
        if min(self.random_plies, self.random_moves or 0, self.write_min_ply) < 0:
            raise GensfenError("random plies, random moves and write_min_ply must be >= 0")
        unknown = sorted(set(self.skip) - set(FILTERS))
        if unknown:
            raise GensfenError(f"unknown filter(s) {unknown}; known: {list(FILTERS)}")
        if self.fmt not in FORMATS:
            raise GensfenError(f"format must be one of {FORMATS}, got {self.fmt!r}")

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed run must agree on (the engine binary's path is not part of it)."""
        data = asdict(self)
        data.pop("binary")
        data["skip"] = sorted(self.skip)
        return data

    def engine_options(self) -> dict[str, Any]:
        return {"Threads": 1, **self.options}


@dataclass
class GameOutput:
    game: int
    data: bytes = b""  # the game's records in the output format
    positions: int = 0  # records written
    searched: int = 0  # positions searched (before filters)
    matched: dict[str, int] = field(default_factory=dict)  # per filter: positions it matches
    result: str | None = None
    reason: str = ""
    plies: int = 0
    error: str | None = None
    stderr_tail: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None  # the worker's and its engine's CPU time for this game

    def record(self, end: int) -> dict[str, Any]:
        """The log line: everything but the data, plus the byte offset where the game ends."""
        out = {k: v for k, v in asdict(self).items() if k != "data"}
        if not self.error:
            out.pop("error")
            out.pop("stderr_tail")
        return {**out, "end": end}


# --- one game -----------------------------------------------------------------------------


class OpeningPlan:
    """Which of the first `window` plies of game `game` are random moves (`count` of them, all
    by default), and the random moves themselves; deterministic per (seed, game)."""

    def __init__(self, seed: int, game: int, window: int, count: int | None = None):
        self.rng = random.Random(f"{seed}:{game}")
        count = window if count is None else min(count, window)
        self.plies = set(self.rng.sample(range(window), count))

    def move(self, board: chess.Board) -> chess.Move | None:
        """A random legal move if this ply is a random one, else None (the engine moves)."""
        if board.ply() not in self.plies:
            return None
        return self.rng.choice(sorted(board.legal_moves, key=lambda m: m.uci()))


def play_game(engine: UCIEngine, config: GensfenConfig, game: int) -> GameOutput:
    """One self-play game on `engine`; engine failures propagate to the caller.

    Positions where a random move is played, or before `write_min_ply`, are not recorded (a
    record's move is the move played next, so a game's records form one chain)."""
    started = time.monotonic()
    out = GameOutput(game, matched=dict.fromkeys(FILTERS, 0))
    plan = OpeningPlan(config.seed, game, config.random_plies, config.random_moves)
    board = chess.Board()
    engine.new_game()
    tracker = config.adjudication.tracker()
    pending: list[tuple[chess.Board, chess.Move, int]] = []  # position, move, score
    ending: Ending | None = None
    while ending is None:
        move = plan.move(board)
        if move is None:
            move, ending = _search(engine, config, board, out, pending, tracker)
        if ending is None:
            board.push(move)
            ending = rules_ending(board) or tracker.cap(board.ply())
    positions = [
        record_from_board(position, move, score, ending.for_side(position.turn))
        for position, move, score in pending
    ]
    out.data = encode(config.fmt, positions)
    out.positions = len(positions)
    out.result, out.reason, out.plies = ending.result, ending.reason, board.ply()
    out.seconds = round(time.monotonic() - started, 3)
    return out


def _search(engine, config, board, out, pending, tracker) -> tuple[chess.Move, Ending | None]:
    """Search `board`, count and record the position; the move, and an adjudicated ending."""
    engine.position(None, [m.uci() for m in board.move_stack])
    search = engine.go(config.limits, timeout=SEARCH_TIMEOUT)
    move = legal_move(board, search.bestmove, engine.name, UCIError)
    score = VALUE_NONE if search.score is None else search.score.value()
    if board.ply() >= config.write_min_ply:
        out.searched += 1
        flags = {
            "in_check": board.is_check(),
            "capture": board.is_capture(move),
            "value_none": score == VALUE_NONE,
        }
        for name, hit in flags.items():
            out.matched[name] += hit
        if not any(flags[name] for name in config.skip):
            pending.append((board.copy(stack=False), move, score))
    return move, tracker.add(board, None if score == VALUE_NONE else score)


def encode(fmt: str, records: list[TrainingRecord]) -> bytes:
    """One game's records as bytes of the output format (whole binpack chunks, so games can
    be appended one after another)."""
    if fmt == "binpack":
        return binpack.encode_binpack(records)
    if fmt == "bin":
        return b"".join(sfbin.encode_record(r) for r in records)
    return "".join(plain.encode_record(r) for r in records).encode()


# --- workers ------------------------------------------------------------------------------


def _start_engine(config: GensfenConfig) -> UCIEngine:
    return UCIEngine([config.binary], name="stockfish", options=config.engine_options())


def _serve(conn: Connection, config: GensfenConfig) -> None:
    """A worker process: plays each game id the driver sends and sends back its GameOutput,
    until the driver closes the pipe (or terminates the worker). A failed engine is recorded
    in the game's output and replaced for the next game."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    engine = None
    try:
        while True:
            try:
                game = conn.recv()
            except EOFError:
                return
            try:
                if engine is None:
                    engine = _start_engine(config)
                conn.send(_play_timed(engine, config, game))
            except (EngineFailure, UCIError) as err:
                if engine is not None:
                    engine.close(timeout=1)
                engine = None
                error = str(err).split("\n")[0]
                tail = getattr(err, "stderr_tail", "")
                conn.send(GameOutput(game, error=error, stderr_tail=tail))
    finally:
        if engine is not None:
            engine.close(timeout=1)


def _play_timed(engine: UCIEngine, config: GensfenConfig, game: int) -> GameOutput:
    """`play_game` with the CPU time the worker and its engine spent on it."""
    before = (time.process_time(), engine.cpu_seconds())
    out = play_game(engine, config, game)
    after = (time.process_time(), engine.cpu_seconds())
    if before[1] is not None and after[1] is not None:
        out.cpu_seconds = round(after[0] - before[0] + after[1] - before[1], 3)
    return out


# --- the driver ---------------------------------------------------------------------------


def sidecar(out: Path, suffix: str) -> Path:
    return out.with_name(out.name + suffix)


def prepare_output(out: Path, config: GensfenConfig) -> None:
    """Check that `out` is new or a run with these settings (its log and settings beside it)."""
    stamp, log = sidecar(out, ".gensfen.json"), sidecar(out, ".gensfen.jsonl")
    wanted = config.fingerprint()
    if stamp.exists():
        try:
            found = json.loads(stamp.read_text())
        except (OSError, ValueError) as err:
            raise GensfenError(f"{stamp}: unreadable ({err})") from None
        if found != wanted:
            diff = sorted(k for k in wanted if found.get(k) != wanted[k])
            raise GensfenError(
                f"{out} was made with other settings ({', '.join(diff)} differ, see {stamp}); "
                "choose another output file"
            )
        return
    if out.exists() or log.exists():
        raise GensfenError(f"{out} exists but was not made by gensfen (no {stamp.name} beside)")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, json.dumps(wanted, indent=2, sort_keys=True) + "\n")


def _repair(out: Path, records: list[dict]) -> int:
    """Cut `out` back to the end of the last logged game; return that size."""
    end = max((r["end"] for r in records), default=0)
    size = out.stat().st_size if out.exists() else 0
    if size < end:
        raise GensfenError(
            f"{out}: {size} bytes, but its log says games were written up to byte {end}; "
            "the file was truncated or replaced"
        )
    if size > end:
        os.truncate(out, end)
    return end


@dataclass
class Target:
    games: int | None = None  # game ids 0..games-1
    positions: int | None = None  # or: games until this many records are written

    def ids(self, done: set[int]) -> Iterator[int]:
        game = 0
        while self.games is None or game < self.games:
            if game not in done:
                yield game
            game += 1

    def reached(self, records: list[dict]) -> bool:
        if self.positions is not None:
            return sum(r.get("positions", 0) for r in records) >= self.positions
        return False


def run(
    out: Path,
    config: GensfenConfig,
    target: Target,
    workers: int = 1,
    on_game: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """Generate into `out` until the target is met; return all log records.

    `on_game(records)` runs in this process once at the start and after each game."""
    if (target.games is None) == (target.positions is None):
        raise GensfenError("give a number of games or of positions")
    try:
        config.binary = resolve_binary(config.binary)
    except FileNotFoundError as err:
        raise GensfenError(str(err)) from None
    prepare_output(out, config)
    try:
        log = ResultsLog(sidecar(out, ".gensfen.jsonl"))
    except ResultsError as err:
        raise GensfenError(str(err)) from None
    with log:
        _repair(out, log.records)
        if on_game:
            on_game(log.records)
        ids = target.ids({r["game"] for r in log.records})
        if not target.reached(log.records):
            _generate(out, config, target, ids, workers, log, on_game)
        return list(log.records)


def _generate(out, config, target, ids, workers, log, on_game) -> None:
    """Hand game ids to `workers` worker processes, one game each at a time, and publish each
    game as it comes back. Each worker has its own pipe: nothing is shared between processes,
    so a worker that dies (a SIGTERM to the whole process group, as `timeout` sends) can leave
    no lock held behind it. Stopping (`interrupt`) terminates the workers; games under way are
    dropped and replayed on rerun."""
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    procs: dict[Connection, Any] = {}  # our end of each worker's pipe -> its process
    busy: dict[Connection, int] = {}  # -> the game it plays
    try:
        for _ in range(workers):
            here, there = context.Pipe()
            proc = context.Process(target=_serve, args=(there, config), daemon=True)
            proc.start()
            there.close()
            procs[here] = proc
        idle = list(procs)
        while True:
            interrupt.check()
            while idle and not target.reached(log.records):
                game = next(ids, None)
                if game is None:
                    break
                conn = idle.pop()
                busy[conn] = game
                try:
                    conn.send(game)
                except OSError:  # the worker is gone
                    raise _lost(out, procs[conn], game) from None
            if not busy:
                break
            for conn in wait(list(busy), timeout=interrupt.POLL_S):
                try:
                    played = conn.recv()
                except (EOFError, OSError):  # end-of-file, or reset with data unread
                    raise _lost(out, procs[conn], busy[conn]) from None
                del busy[conn]
                idle.append(conn)
                _publish(fd, played, log)
                if on_game:
                    on_game(log.records)
    finally:
        for conn, proc in procs.items():
            conn.close()  # an idle worker sees end-of-file and exits
            if conn in busy:
                proc.terminate()  # a game under way is dropped and replayed on rerun
        for proc in procs.values():
            proc.join(5)
            if proc.exitcode is None:
                proc.kill()
                proc.join()
        os.close(fd)


def _lost(out: Path, proc, game: int) -> GensfenError:
    """The error for a worker that died under game `game`, unless it died with us: a signal
    to the whole process group (`timeout`) stops the driver as an interrupt instead."""
    interrupt.check()
    proc.join(1)
    return GensfenError(
        f"{out}: the worker playing game {game} died (exit code {proc.exitcode}); "
        "rerun the same command to resume"
    )


def _publish(fd: int, game: GameOutput, log: ResultsLog) -> None:
    """Append the game's bytes in one write, fsync, then log it (see the module docstring)."""
    view = memoryview(game.data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)
    log.append(game.record(os.fstat(fd).st_size))
