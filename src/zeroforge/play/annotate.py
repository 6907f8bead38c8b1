"""GNU Go's judgements written into finished games, the sources of the training-only targets
(`data.supervised.game_targets`):

- final areas: GNU Go judges each game's last position (`scoring.final_area`) and the SGF gets
  TB/TW on its last node (`formats.sgf`): the ownership and score targets;
- teacher targets (`teacher=True`): the game is replayed into GNU Go and, before each move, its
  candidate moves with their values (`top_moves_black`/`_white`: a genmove that plays nothing)
  and its score estimate (`estimate_score`) go onto that move's node as ZM/ZS, the root gets
  ZL (the level): the soft policy and value targets. The level is the one the game was played
  at (`--level N` in its comment GC, as gnugo-games writes it), else 1, unless one is given.

Each game gets a fresh GNU Go (seed 0), so what is written into a file does not depend on the
games judged before it (starting GNU Go costs milliseconds; judging a game, seconds).

Resumable and safe to stop: a file is rewritten atomically once all its games are done, and a
file whose games all have their TB/TW (or ZL) already is skipped, so a rerun does only what is
missing. Every other property of the file is kept. `workers` GNU Go processes run at once
(threads relaying GTP, as in play/gnugo_games.py).
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sgfmill import sgf

from zeroforge.formats.sgf import (
    TEACHER_LEVEL,
    final_area,
    parse_collection,
    set_area,
    set_teacher,
    write_collection,
)
from zeroforge.go.geometry import BOARD_SIZE, PASS, move_to_vertex, vertex_to_move
from zeroforge.play.gtp import EngineFailure, GTPEngine, GTPError
from zeroforge.play.scoring import (
    COLOUR_NAMES,
    SCORER_LEVEL,
    black_margin,
    game_area,
    replay,
    scorer_argv,
)

TIMEOUT_S = 600.0  # a position left mid-fight (a resignation) takes GNU Go 5-20 s to read out
TEACHER_LEVEL_DEFAULT = 1  # for a game whose comment names no level
PLAYED_LEVEL = re.compile(r"--level (\d+)")  # gnugo-games' comment: `gnugo --level 1 ...`


@dataclass
class AnnotateStats:
    annotated: list[Path] = field(default_factory=list)
    already_there: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per file, naming it
    games: int = 0  # games judged by this run
    seconds: float = 0.0


def _moves(game: sgf.Sgf_game) -> tuple[list[tuple[str, int, int]], list[int]]:
    """Main-line moves (colour, move index, node number: root 0) and black setup stones of a
    19x19 game."""
    if game.get_size() != BOARD_SIZE:
        raise ValueError(f"board size {game.get_size()}, only {BOARD_SIZE} is judged")
    black, white, _ = game.get_root().get_setup_stones()
    if white:
        raise ValueError("white setup stones (AW) cannot be replayed into GNU Go")
    moves = []
    for number, node in enumerate(game.get_main_sequence()[1:], 1):
        colour, point = node.get_move()
        if colour is not None:
            move = PASS if point is None else point[0] * BOARD_SIZE + point[1]
            moves.append((colour, move, number))
    return moves, sorted(row * BOARD_SIZE + col for row, col in black)


def annotate_file(path: Path, level: int = SCORER_LEVEL) -> int:
    """Judge every game of `path` lacking TB/TW, each in a fresh GNU Go at `level`
    (`scoring.game_area`), and rewrite the file; the games judged. ValueError names the file
    and game for an unreadable file or a move GNU Go refuses."""
    games = parse_collection(path)
    judged = 0
    for number, game in enumerate(games, 1):
        if final_area(game) is not None:
            continue
        try:
            moves, handicap = _moves(game)
            moves = [m[:2] for m in moves]
            area = game_area(moves, game.get_komi(), handicap, TIMEOUT_S, level)
        except (ValueError, GTPError) as exc:
            raise ValueError(f"{path}: game {number}: {exc}") from None
        set_area(game.get_last_node(), *area)
        judged += 1
    if judged:
        write_collection(path, games)
    return judged


def teach_file(path: Path, level: int | None = None) -> int:
    """Write GNU Go's teacher targets (ZM/ZS, ZL) into every game of `path` lacking ZL and
    rewrite the file; the games done. `level`: GNU Go's, else each game's own (module
    docstring). ValueError names the file, game and node for an unreadable file, a move GNU Go
    refuses or a reply this code does not understand."""
    games = parse_collection(path)
    done = 0
    for number, game in enumerate(games, 1):
        if game.get_root().has_property(TEACHER_LEVEL):
            continue
        try:
            game_level = _teacher_level(game) if level is None else level
            moves, handicap = _moves(game)
        except ValueError as exc:
            raise ValueError(f"{path}: game {number}: {exc}") from None
        # A fresh GNU Go for every game: one that judged other games before answers this
        # one's near-ties differently (measured: values off by 0.01-0.05, order changed).
        with GTPEngine(scorer_argv(game_level), name="gnugo teacher") as gnugo:
            _teach_game(gnugo, game, moves, handicap, f"{path}: game {number}")
        game.get_root().set_raw(TEACHER_LEVEL, str(game_level).encode("ascii"))
        done += 1
    if done:
        write_collection(path, games)
    return done


def _teach_game(
    gnugo: GTPEngine,
    game: sgf.Sgf_game,
    moves: list[tuple[str, int, int]],
    handicap: list[int],
    where: str,
) -> None:
    """Replay the game into `gnugo`, setting ZM/ZS on each move's node before playing it."""
    try:
        replay(gnugo, [], game.get_komi(), handicap, TIMEOUT_S)
    except GTPError as exc:
        raise ValueError(f"{where}: {exc}") from None
    nodes = game.get_main_sequence()
    for colour, move, node in moves:
        try:
            candidates = top_moves(gnugo, colour)
            score = estimate_score(gnugo)
            gnugo.send(f"play {colour} {move_to_vertex(move)}", TIMEOUT_S)
        except (ValueError, GTPError) as exc:
            raise ValueError(f"{where}: node {node}: {exc}") from None
        set_teacher(nodes[node], candidates, score)


def _teacher_level(game: sgf.Sgf_game) -> int:
    root = game.get_root()
    played = PLAYED_LEVEL.search(root.get("GC")) if root.has_property("GC") else None
    return int(played.group(1)) if played else TEACHER_LEVEL_DEFAULT


def top_moves(gnugo: GTPEngine, colour: str) -> list[tuple[int, float]]:
    """GNU Go's candidates for `colour`: up to 10 moves with a value above 0, best first, each
    value printed to 2 decimals (a tiny one as 0.00). The reply reads `Q16 75.00 R4 74.01 ...`,
    empty when GNU Go would pass or fill a dame point."""
    words = gnugo.send(f"top_moves_{COLOUR_NAMES[colour]}", TIMEOUT_S).split()
    if len(words) % 2:
        raise ValueError(f"top_moves: {' '.join(words)!r} is not vertex/value pairs")
    return [
        (vertex_to_move(v), float(value)) for v, value in zip(words[::2], words[1::2], strict=True)
    ]


def estimate_score(gnugo: GTPEngine) -> float:
    """GNU Go's score estimate of the board as black's lead in points (komi included): its
    reply `W+7.5 (upper bound: ...)` is -7.5, `B+2.9 ...` is 2.9."""
    reply = gnugo.send("estimate_score", TIMEOUT_S)
    try:
        margin = black_margin(reply.split(" ", 1)[0])
    except ValueError:
        margin = None
    if margin is None:
        raise ValueError(f"estimate_score: {reply!r} is not B+x or W+x")
    return margin


def needs_area(path: Path) -> bool:
    try:
        return any(final_area(game) is None for game in parse_collection(path))
    except ValueError:
        return True  # annotate_file reports it


def needs_teacher(path: Path) -> bool:
    try:
        return any(not g.get_root().has_property(TEACHER_LEVEL) for g in parse_collection(path))
    except ValueError:
        return True  # teach_file reports it


def annotate_files(
    paths: list[Path], workers: int = 1, level: int | None = None, teacher: bool = False
) -> AnnotateStats:
    """Annotate the files that need it, `workers` at a time: final areas (GNU Go at `level`,
    default SCORER_LEVEL) or, with `teacher`, teacher targets (`teach_file`)."""
    stats = AnnotateStats()
    needs = needs_teacher if teacher else needs_area
    todo = []
    for path in paths:
        (todo if needs(path) else stats.already_there).append(path)
    lock, queue = threading.Lock(), list(reversed(todo))
    start = time.monotonic()

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            try:
                if teacher:
                    judged = teach_file(path, level)
                else:
                    judged = annotate_file(path, SCORER_LEVEL if level is None else level)
            except ValueError as exc:
                with lock:
                    stats.failed.append(str(exc).splitlines()[0])
                continue
            except EngineFailure as exc:  # a dead or stuck engine loses its file only
                with lock:
                    stats.failed.append(f"{path}: {str(exc).splitlines()[0]}")
                continue
            with lock:  # (judged 0: another run annotated it meanwhile)
                (stats.annotated if judged else stats.already_there).append(path)
                stats.games += judged

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(max(1, workers))]:
            future.result()
    stats.seconds = time.monotonic() - start
    return stats
