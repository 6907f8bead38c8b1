"""GNU Go vs GNU Go games at scale: parallel, resumable, each game published whole.

Game i of a run plays with seed `seed + i` in its own GNU Go process
(`gnugo --mode gtp --level L --chinese-rules --seed S`), which plays both colours (`genmove b`,
`genmove w`) until two passes, a resignation or the move cap, then scores its own board
(`final_score`, dead stones removed; `estimate_score` for a game stopped at the cap, since
final_score reads every group to death and takes minutes mid-game). Every game has its own seed:
GNU Go's default seed is the clock at 1 s resolution, so two games started in the same second
would otherwise be identical (docs/ENGINES.md#gnu-go). After two passes the same process judges the final
area of each side (`scoring.final_area`: dead stones, territory, seki), written as TB/TW on the
game's last node, the source of the ownership and score targets (`sgf2chunks --shards`); a game
ended by resignation or the cap gets them from `zeroforge annotate` (GNU Go must then read the
open fights out: seconds after a resignation, minutes at a cap).

`workers` games run at once: each worker is a thread driving its own GNU Go process over pipes,
so the engines do the work in parallel and the Python side only relays GTP lines.

The game is the unit of work and of publishing: `OUT/NAME.sgf` appears by an atomic rename
(`zeroforge.atomic`) when the game is over, NAME saying what makes the game
(`gnugo-l1-s20000`, with `-hH` for handicap and `-kK` for a komi other than 7.5). A rerun with
the same settings skips every game whose SGF exists and plays the rest, so a killed run loses at
most the games in flight, and a game lost to an engine failure is played on the next run. The
move cap is a safety stop, not part of a game's identity (a capped game says so in its comment).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, vertex_to_move
from zeroforge.play import interrupt, specs
from zeroforge.play.engines import engine_path
from zeroforge.play.gtp import EngineFailure, GTPEngine, GTPError
from zeroforge.play.progress import GameProgress
from zeroforge.play.scoring import final_area, normalise_result

DEFAULT_KOMI = 7.5
DEFAULT_MAX_MOVES = 1000  # level-1 games end by two passes after ~200-300 moves
MOVE_TIMEOUT_S = 600.0  # final_score can take minutes on an unsettled board


class Interrupted(Exception):
    """The run was asked to stop; the game in flight is dropped (never published)."""


@dataclass
class GnugoGameOptions:
    level: int = 1
    komi: float = DEFAULT_KOMI
    handicap: int = 0  # fixed handicap stones, 0 or 2-9
    max_moves: int = DEFAULT_MAX_MOVES
    seed: int = 1  # the seed of game 0; game i plays with seed + i

    def game_seed(self, index: int) -> int:
        return self.seed + index

    def game_name(self, index: int) -> str:
        name = f"gnugo-l{self.level}"
        if self.handicap:
            name += f"-h{self.handicap}"
        if self.komi != DEFAULT_KOMI:
            name += f"-k{self.komi:g}"
        return f"{name}-s{self.game_seed(index)}"


@dataclass
class PlayedGame:
    name: str
    seed: int
    moves: int
    result: str
    seconds: float


@dataclass
class GnugoGamesStats:
    workers: int
    already_there: list[Path] = field(default_factory=list)  # skipped: published before
    played: list[PlayedGame] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # SGFs published by this run
    lost: list[str] = field(default_factory=list)  # one message per game lost to the engine
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def games_per_hour(self) -> float:
        return 3600.0 * len(self.played) / self.seconds if self.seconds > 0 else 0.0

    @property
    def cores_used(self) -> int:
        return max(1, min(self.workers, os.cpu_count() or 1))

    @property
    def games_per_hour_per_core(self) -> float:
        return self.games_per_hour / self.cores_used

    def tallies(self) -> str:
        """What the progress bar shows beside the counts: wins by colour, game length, losses."""
        wins = Counter(game.result[:1] for game in self.played)
        moves = sum(game.moves for game in self.played) / max(len(self.played), 1)
        return f"B {wins['B']} W {wins['W']} | {moves:.0f} moves/game | {len(self.lost)} lost"


def gnugo_argv(level: int, seed: int) -> list[str]:
    options = {"level": level, "chinese_rules": True, "extra_args": []}
    return specs.gnugo_argv(engine_path("gnugo"), options, seed)


def _other(colour: str) -> str:
    return "w" if colour == "b" else "b"


def _two_passes(record: GameRecord) -> bool:
    return len(record.moves) >= 2 and record.moves[-2][1] == record.moves[-1][1] == PASS


def play_game(
    options: GnugoGameOptions, seed: int, stop: threading.Event | None = None
) -> GameRecord:
    """One GNU Go self-game, scored by the same GNU Go (or ended by resignation)."""
    with GTPEngine(gnugo_argv(options.level, seed)) as gnugo:
        gnugo.send("boardsize 19")
        gnugo.send("clear_board")
        gnugo.send(f"komi {options.komi}")
        stones = []
        if options.handicap:
            reply = gnugo.send(f"fixed_handicap {options.handicap}")
            stones = [vertex_to_move(vertex) for vertex in reply.split()]
        name = f"GNU Go level {options.level}"
        record = GameRecord(
            moves=[], black=name, white=name, komi=options.komi, handicap_stones=stones
        )
        colour = "w" if stones else "b"
        while len(record.moves) < options.max_moves:
            if stop is not None and stop.is_set():
                raise Interrupted
            reply = gnugo.send(f"genmove {colour}", timeout=MOVE_TIMEOUT_S).lower()
            if reply == "resign":
                record.result = f"{_other(colour).upper()}+R"
                break
            record.moves.append((colour, PASS if reply == "pass" else vertex_to_move(reply)))
            if _two_passes(record):
                break
            colour = _other(colour)
        if record.result is None:
            record.result = _score(gnugo, record)
            if _two_passes(record):  # read out by final_score already: about a second more
                record.area = final_area(gnugo, MOVE_TIMEOUT_S)
    return record


def _score(gnugo: GTPEngine, record: GameRecord) -> str:
    if _two_passes(record):
        return normalise_result(gnugo.send("final_score", timeout=MOVE_TIMEOUT_S))
    record.comment += " (stopped at the move cap; result by estimate_score)"
    estimate = gnugo.send("estimate_score", timeout=MOVE_TIMEOUT_S).split()[0]
    return normalise_result(estimate)


def publish_game(
    options: GnugoGameOptions, index: int, out: Path, stop: threading.Event | None = None
) -> tuple[Path, PlayedGame]:
    """Play game `index` and write `OUT/NAME.sgf` atomically."""
    seed = options.game_seed(index)
    start = time.monotonic()
    record = play_game(options, seed, stop)
    record.comment = f"gnugo --level {options.level} --chinese-rules --seed {seed}" + (
        record.comment
    )
    name = options.game_name(index)
    path = out / f"{name}.sgf"
    write_game(path, record)
    return path, PlayedGame(name, seed, len(record.moves), record.result, time.monotonic() - start)


def game_paths(options: GnugoGameOptions, games: int, out: Path) -> list[Path]:
    """Where games 0..games-1 of these settings are (or will be) published."""
    return [out / f"{options.game_name(i)}.sgf" for i in range(games)]


def run_games(
    options: GnugoGameOptions, games: int, workers: int, out: Path, show_progress: bool = True
) -> GnugoGamesStats:
    """Games 0..games-1, skipping those already in `out`; Ctrl-C (and SIGTERM under
    `interrupt.signals_stop`) stops cleanly: the games in flight are dropped, every published
    one stays."""
    out.mkdir(parents=True, exist_ok=True)
    stats = GnugoGamesStats(workers)
    todo = []
    for index, path in enumerate(game_paths(options, games, out)):
        if path.exists():
            stats.already_there.append(path)
        else:
            todo.append(index)
    stop = threading.Event()
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with GameProgress(len(todo), "gnugo games", enabled=show_progress) as progress:
            futures = {pool.submit(publish_game, options, i, out, stop): i for i in todo}
            for future in interrupt.as_finished(futures):
                _collect(future, futures[future], options, stats)
                progress.game_done(stats.tallies())
    except KeyboardInterrupt:
        stats.interrupted = True
        stop.set()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stats.seconds = time.monotonic() - start
    stats.played.sort(key=lambda game: game.seed)
    return stats


def _collect(future, index: int, options: GnugoGameOptions, stats: GnugoGamesStats) -> None:
    try:
        path, game = future.result()
    except (EngineFailure, GTPError, ValueError) as exc:  # ValueError: an unreadable result
        stats.lost.append(f"game {index} (seed {options.game_seed(index)}): {exc}")
        return
    stats.paths.append(path)
    stats.played.append(game)
