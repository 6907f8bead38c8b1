"""Self-play with the real leelaz over GTP: games, their training records and search values.

One leelaz process per game plays both colours (`genmove b`, `genmove w`) with autogtp's
self-play options (`-m 30 -n -d -r 1`, a fraction of games with `-r 0` so resignation
mistakes can be measured) and its own seed. A game ends on resignation or two passes (or the
optional move cap); otherwise GNU Go scores it (`play.scoring`: leelaz's own final_score keeps
dead stones). Then leelaz dumps the records (`dump_training`) and search values
(`dump_debug`) into a private temporary directory (one record per genmove, the resigning one
included), and the game is published into OUT:

    OUT/sgf/NAME.sgf           the game record
    OUT/debug/NAME.debug       dump_debug, gzip (formats.lzdebug): q per record
    OUT/chunks/NAME.gz         dump_training (formats.chunks)

each by an atomic rename, the chunk last, so a trainer reading OUT/chunks never sees a partial
file nor a chunk without its q. Traps handled (docs/ENGINES.md#leelaz): leelaz lowercases GTP arguments, so
its dump paths are a lowercase temporary directory without spaces; it aborts on an empty dump,
so a game without moves is never dumped. A crashed engine (killed, died, timed out) loses only
the game in flight, which is played again with the next seed.

Ctrl-C (and SIGTERM under `interrupt.signals_stop`) stops the run between moves: the games in
flight are dropped (never published), every published game stays whole. There is no resume: a
rerun plays all its games again.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from zeroforge.atomic import atomic_copy, temp_dir
from zeroforge.formats.chunks import ChunkError, read_chunk
from zeroforge.formats.lzdebug import DEBUG_SUFFIX, DebugFileError, read_debug
from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, vertex_to_move
from zeroforge.play import interrupt
from zeroforge.play.engines import engine_path
from zeroforge.play.gtp import EngineFailure, GTPEngine
from zeroforge.play.progress import GameProgress
from zeroforge.play.scoring import SCORER_LEVEL, score_game
from zeroforge.play.specs import leelaz_argv

SEED_STRIDE = 16  # game i, attempt a plays with seed base + i * SEED_STRIDE + a
MOVE_TIMEOUT_S = 600.0
DUMP_TIMEOUT_S = 120.0
DEFAULT_KOMI = 7.5


class SelfplayError(RuntimeError):
    """A game that cannot be turned into consistent data (not an engine crash)."""


class Interrupted(Exception):
    """The run was asked to stop; the game in flight is dropped (never published)."""


@dataclass
class SelfplayOptions:
    weights: str  # a weights file leelaz loads
    playouts: int | None = None
    visits: int | None = None
    threads: int = 1
    random_moves: int = 30  # -m: first moves sampled in proportion to visits (autogtp)
    resign_pct: int = 1  # -r, percent
    no_resign_fraction: float = 0.1  # games played with -r 0
    komi: float = DEFAULT_KOMI
    max_moves: int = 0  # 0: play until two passes or resignation
    score_level: int = SCORER_LEVEL  # GNU Go level of final_score (its dead-stone reading)
    seed: int = 1
    max_attempts: int = 3


@dataclass
class GameResult:
    name: str
    seed: int
    moves: int
    records: int
    result: str
    resign_allowed: bool
    seconds: float


@dataclass
class SelfplayStats:
    games: list[GameResult] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # one message per lost game attempt
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def games_per_hour(self) -> float:
        return 3600.0 * len(self.games) / self.seconds if self.seconds > 0 else 0.0


def dump_dir() -> Path:
    """A fresh temporary directory leelaz can write to: lowercase, no spaces."""
    base = tempfile.gettempdir()
    if base != base.lower() or " " in base:
        base = "/tmp"
    return temp_dir("zf-selfplay", base)


def game_seed(options: SelfplayOptions, index: int, attempt: int) -> int:
    if not 0 <= attempt < SEED_STRIDE:
        raise ValueError(f"at most {SEED_STRIDE} attempts per game keep every seed distinct")
    return options.seed + index * SEED_STRIDE + attempt


def resign_allowed(options: SelfplayOptions, seed: int) -> bool:
    """Whether this game may resign; a fixed fraction of seeds play every game out."""
    return random.Random(seed).random() >= options.no_resign_fraction


def leelaz_command(options: SelfplayOptions, seed: int, resign: bool) -> list[str]:
    opts = {
        "threads": options.threads,
        "playouts": options.playouts,
        "visits": options.visits,
        "resign": options.resign_pct if resign else 0,
        "random_moves": options.random_moves,
        "noise": True,
        "quiet": True,
        "cpu_only": True,
        "extra_args": ["-d"],
    }
    return leelaz_argv(engine_path("leelaz"), opts, options.weights, seed)


def _other(colour: str) -> str:
    return "w" if colour == "b" else "b"


def play_moves(
    leelaz: GTPEngine, options: SelfplayOptions, stop: threading.Event | None = None
) -> tuple[list, str | None]:
    """genmove for both colours until resignation, two passes or the cap: (moves, result or
    None when the game must be scored). Raises Interrupted between moves once `stop` is set."""
    leelaz.send("clear_board")
    leelaz.send(f"komi {options.komi}")
    moves: list[tuple[str, int]] = []
    colour = "b"
    while not options.max_moves or len(moves) < options.max_moves:
        if stop is not None and stop.is_set():
            raise Interrupted
        reply = leelaz.send(f"genmove {colour}", timeout=MOVE_TIMEOUT_S).lower()
        if reply == "resign":
            return moves, f"{_other(colour).upper()}+R"
        moves.append((colour, PASS if reply == "pass" else vertex_to_move(reply)))
        if len(moves) >= 2 and moves[-1][1] == moves[-2][1] == PASS:
            break
        colour = _other(colour)
    return moves, None


def score(moves: list[tuple[str, int]], options: SelfplayOptions) -> str:
    """GNU Go's final_score after two passes; its quick estimate_score for a game stopped at
    the move cap (final_score takes minutes on an unfinished board, play.scoring)."""
    finished = len(moves) >= 2 and moves[-1][1] == moves[-2][1] == PASS
    return score_game(
        moves, options.komi, timeout=MOVE_TIMEOUT_S, level=options.score_level, finished=finished
    )


def play_game(
    options: SelfplayOptions, seed: int, workdir: Path, stop: threading.Event | None = None
) -> tuple[GameRecord, bool]:
    """Play one game and leave `train.0.gz` and `debug.0.gz` in workdir."""
    resign = resign_allowed(options, seed)
    with GTPEngine(leelaz_command(options, seed, resign)) as leelaz:
        moves, result = play_moves(leelaz, options, stop)
        if not moves:  # leelaz aborts on an empty dump (docs/ENGINES.md#leelaz)
            raise SelfplayError(f"seed {seed}: the game ended before any move")
        if result is None:
            result = score(moves, options)
        winner = result[0].lower()
        if winner not in ("b", "w"):
            raise SelfplayError(f"seed {seed}: result {result!r} has no winner")
        leelaz.send(f"dump_training {winner} {workdir / 'train'}", timeout=DUMP_TIMEOUT_S)
        leelaz.send(f"dump_debug {workdir / 'debug'}", timeout=DUMP_TIMEOUT_S)
    record = GameRecord(
        moves=moves,
        black="leelaz",
        white="leelaz",
        komi=options.komi,
        result=result,
        comment=f"zeroforge selfplay: seed {seed}, resign "
        f"{options.resign_pct if resign else 0} %, {Path(options.weights).name}",
    )
    return record, resign


def check_dumps(workdir: Path, seed: int) -> int:
    """The chunk and the debug file must agree record for record; returns the count."""
    chunk = read_chunk(workdir / "train.0.gz", on_error="raise").positions
    values = read_debug(workdir / "debug.0.gz")
    records = len(chunk.side_to_move)
    if records != len(values) or records == 0:
        raise SelfplayError(
            f"seed {seed}: {records} training records but {len(values)} dump_debug lines"
        )
    return records


def publish(workdir: Path, out: Path, name: str, record: GameRecord) -> None:
    """SGF, then search values, then the chunk: each appears whole (rename in its directory)."""
    write_game(out / "sgf" / f"{name}.sgf", record)
    atomic_copy(workdir / "debug.0.gz", out / "debug" / f"{name}{DEBUG_SUFFIX}")
    atomic_copy(workdir / "train.0.gz", out / "chunks" / f"{name}.gz")


def selfplay_game(
    options: SelfplayOptions,
    index: int,
    out: Path,
    crashes: list[str],
    stop: threading.Event | None = None,
) -> GameResult:
    """Game `index`, played again with the next seed when the engine crashes."""
    for attempt in range(options.max_attempts):
        if stop is not None and stop.is_set():
            raise Interrupted
        seed = game_seed(options, index, attempt)
        workdir = dump_dir()
        start = time.monotonic()
        try:
            record, resign = play_game(options, seed, workdir, stop)
            records = check_dumps(workdir, seed)
            name = f"game-s{seed}"
            publish(workdir, out, name, record)
            return GameResult(
                name,
                seed,
                len(record.moves),
                records,
                record.result,
                resign,
                time.monotonic() - start,
            )
        except (EngineFailure, SelfplayError, ChunkError, DebugFileError) as exc:
            crashes.append(f"game {index} seed {seed}: {exc}")  # lost; the next seed plays
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    raise SelfplayError(
        f"game {index}: lost {options.max_attempts} times in a row; last: {crashes[-1]}"
    )


def run_selfplay(
    options: SelfplayOptions, games: int, workers: int, out: Path, show_progress: bool = True
) -> SelfplayStats:
    """Games 0..games-1; Ctrl-C (and SIGTERM under `interrupt.signals_stop`) stops cleanly: the
    games in flight are dropped, every published one stays (`stats.interrupted`)."""
    if options.playouts is None and options.visits is None:
        raise ValueError("set playouts or visits: without them leelaz searches without limit")
    for sub in ("sgf", "debug", "chunks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    stats = SelfplayStats()
    stop = threading.Event()
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [
        pool.submit(selfplay_game, options, i, out, stats.crashes, stop) for i in range(games)
    ]
    try:
        with GameProgress(games, "self-play", enabled=show_progress) as progress:
            for future in interrupt.as_finished(futures):
                stats.games.append(future.result())
                progress.game_done()
    except KeyboardInterrupt:
        stats.interrupted = True
        stop.set()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stats.seconds = time.monotonic() - start
    if stats.interrupted:  # every published game, those past their last move at the stop too
        stats.games = [f.result() for f in futures if not f.cancelled() and not f.exception()]
    stats.games.sort(key=lambda game: game.seed)
    return stats
