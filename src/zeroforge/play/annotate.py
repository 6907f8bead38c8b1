"""Final areas written into finished games: GNU Go judges each game's last position
(`scoring.final_area`) and the SGF gets TB/TW on its last node (`formats.sgf`), the source of
the ownership and score training targets (`data.supervised.game_targets`).

Resumable and safe to stop: a file is rewritten atomically once all its games are judged, and a
file whose games all have TB/TW already is skipped, so a rerun does only what is missing. Every
other property of the file is kept. `workers` GNU Go processes run at once (threads relaying
GTP, as in play/gnugo_games.py), each reused from game to game.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sgfmill import sgf

from zeroforge.formats.sgf import final_area, parse_collection, set_area, write_collection
from zeroforge.go.geometry import BOARD_SIZE, PASS
from zeroforge.play.gtp import EngineFailure, GTPEngine, GTPError
from zeroforge.play.scoring import final_area as judge_area
from zeroforge.play.scoring import replay, scorer_argv

TIMEOUT_S = 600.0  # a position left mid-fight (a resignation) takes GNU Go 5-20 s to read out


@dataclass
class AnnotateStats:
    annotated: list[Path] = field(default_factory=list)
    already_there: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per file, naming it
    games: int = 0  # games judged by this run
    seconds: float = 0.0


def _moves(game: sgf.Sgf_game) -> tuple[list[tuple[str, int]], list[int]]:
    """Main-line moves (colour, move index) and black setup stones of a 19x19 game."""
    if game.get_size() != BOARD_SIZE:
        raise ValueError(f"board size {game.get_size()}, only {BOARD_SIZE} is judged")
    black, white, _ = game.get_root().get_setup_stones()
    if white:
        raise ValueError("white setup stones (AW) cannot be replayed into GNU Go")
    moves = []
    for node in game.get_main_sequence()[1:]:
        colour, point = node.get_move()
        if colour is not None:
            moves.append((colour, PASS if point is None else point[0] * BOARD_SIZE + point[1]))
    return moves, sorted(row * BOARD_SIZE + col for row, col in black)


def annotate_file(path: Path, gnugo: GTPEngine) -> int:
    """Judge every game of `path` lacking TB/TW and rewrite the file; the games judged.
    ValueError names the file and game for an unreadable file or a move GNU Go refuses."""
    games = parse_collection(path)
    judged = 0
    for number, game in enumerate(games, 1):
        if final_area(game) is not None:
            continue
        try:
            moves, handicap = _moves(game)
            replay(gnugo, moves, game.get_komi(), handicap, TIMEOUT_S)
        except (ValueError, GTPError) as exc:
            raise ValueError(f"{path}: game {number}: {exc}") from None
        set_area(game.get_last_node(), *judge_area(gnugo, TIMEOUT_S))
        judged += 1
    if judged:
        write_collection(path, games)
    return judged


def needs_area(path: Path) -> bool:
    try:
        return any(final_area(game) is None for game in parse_collection(path))
    except ValueError:
        return True  # annotate_file reports it


def annotate_files(paths: list[Path], workers: int = 1, level: int = 10) -> AnnotateStats:
    """Annotate the files that need it, `workers` at a time (GNU Go at `level`)."""
    stats = AnnotateStats()
    todo = []
    for path in paths:
        (todo if needs_area(path) else stats.already_there).append(path)
    lock, queue = threading.Lock(), list(reversed(todo))
    start = time.monotonic()

    def work() -> None:
        engine = None
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    path = queue.pop()
                if engine is None:
                    engine = GTPEngine(scorer_argv(level), name="gnugo judge")
                try:
                    judged = annotate_file(path, engine)
                except ValueError as exc:
                    with lock:
                        stats.failed.append(str(exc).splitlines()[0])
                    continue
                except EngineFailure as exc:  # a dead or stuck engine: a fresh one goes on
                    with lock:
                        stats.failed.append(f"{path}: {str(exc).splitlines()[0]}")
                    engine.close()
                    engine = None
                    continue
                with lock:  # (judged 0: another run annotated it meanwhile)
                    (stats.annotated if judged else stats.already_there).append(path)
                    stats.games += judged
        finally:
            if engine is not None:
                engine.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(max(1, workers))]:
            future.result()
    stats.seconds = time.monotonic() - start
    return stats
