"""`zeroforge gnugo-games`: GNU Go vs GNU Go games as a supervised data source.

One GNU Go process per game plays both colours (`genmove b`, `genmove w`) at the given level
with Chinese rules and its own `--seed` (GNU Go's default seed is the clock at 1 s resolution:
two games started in the same second would be identical, FACTS.md). The finished game is
scored by the same process (`final_score`, dead stones removed) and written as `OUT/NAME.sgf`
atomically; `--chunks` also converts the games with `zeroforge sgf2chunks`' converter.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from zeroforge.formats.sgf import GameRecord, write_game
from zeroforge.go.geometry import PASS, vertex_to_move
from zeroforge.play import specs
from zeroforge.play.engines import EngineNotFound, engine_path
from zeroforge.play.gtp import EngineFailure, GTPEngine, GTPError
from zeroforge.play.scoring import normalise_result
from zeroforge.play.selfplay import GameProgress

DEFAULT_KOMI = 7.5
MOVE_TIMEOUT_S = 600.0  # final_score can take minutes on an unsettled board


def gnugo_argv(level: int, seed: int) -> list[str]:
    options = {"level": level, "chinese_rules": True, "extra_args": []}
    return specs.gnugo_argv(engine_path("gnugo"), options, seed)


def play_game(
    level: int, seed: int, max_moves: int, handicap: int = 0, komi: float = DEFAULT_KOMI
) -> GameRecord:
    """One GNU Go self-game, scored by the same GNU Go (or ended by resignation)."""
    with GTPEngine(gnugo_argv(level, seed)) as gnugo:
        gnugo.send("boardsize 19")
        gnugo.send("clear_board")
        gnugo.send(f"komi {komi}")
        stones = []
        if handicap:
            stones = [vertex_to_move(v) for v in gnugo.send(f"fixed_handicap {handicap}").split()]
        name = f"GNU Go level {level}"
        record = GameRecord(moves=[], black=name, white=name, komi=komi, handicap_stones=stones)
        colour = "w" if stones else "b"
        while len(record.moves) < max_moves:
            reply = gnugo.send(f"genmove {colour}", timeout=MOVE_TIMEOUT_S).lower()
            if reply == "resign":
                record.result = f"{'W' if colour == 'b' else 'B'}+R"
                break
            record.moves.append((colour, PASS if reply == "pass" else vertex_to_move(reply)))
            if len(record.moves) >= 2 and record.moves[-2][1] == record.moves[-1][1] == PASS:
                break
            colour = "w" if colour == "b" else "b"
        if record.result is None:
            record.result = _score(gnugo, record)
    return record


def _score(gnugo: GTPEngine, record: GameRecord) -> str:
    """final_score after two passes; a game stopped at the move cap gets GNU Go's quick
    estimate (final_score reads every group to death and takes minutes mid-game)."""
    finished = len(record.moves) >= 2 and record.moves[-2][1] == record.moves[-1][1] == PASS
    if finished:
        return normalise_result(gnugo.send("final_score", timeout=MOVE_TIMEOUT_S))
    record.comment += " (stopped at the move cap; result by estimate_score)"
    estimate = gnugo.send("estimate_score", timeout=MOVE_TIMEOUT_S).split()[0]
    return normalise_result(estimate)


def run_game(out: Path, index: int, args: argparse.Namespace) -> Path:
    seed = args.seed + index
    record = play_game(args.level, seed, args.max_moves, args.handicap, args.komi)
    record.comment = f"gnugo --level {args.level} --seed {seed}" + record.comment
    path = out / f"gnugo-l{args.level}-s{seed}.sgf"
    write_game(path, record)
    return path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge gnugo-games", description=__doc__)
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="directory for the SGF files")
    parser.add_argument("--level", type=int, default=1, help="GNU Go level (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="games played at once")
    parser.add_argument("--seed", type=int, default=1, help="seed of game 0; game i gets seed+i")
    parser.add_argument("--max-moves", type=int, default=1000, help="stop (and score) after this")
    parser.add_argument("--handicap", type=int, default=0, help="fixed handicap stones (2-9)")
    parser.add_argument("--komi", type=float, default=DEFAULT_KOMI)
    parser.add_argument("--chunks", action="store_true", help="also write training chunks")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.games < 1 or args.workers < 1 or args.handicap == 1 or not 0 <= args.handicap <= 9:
        print(
            "gnugo-games: --games and --workers must be >= 1, --handicap 0 or 2-9", file=sys.stderr
        )
        return 1
    try:
        engine_path("gnugo")
    except EngineNotFound as exc:
        print(f"gnugo-games: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    paths, lost = play_all(args)
    print(f"{len(paths)} games in {args.out}, {len(lost)} lost to engine failures")
    for message in lost:
        print(f"  lost: {message.splitlines()[0]}", file=sys.stderr)
    if args.chunks and paths:
        from zeroforge.commands.sgf2chunks import convert_to_dir

        stats, written = convert_to_dir(sorted(paths), args.out / "chunks")
        print(f"{stats.positions} positions in {len(written)} chunks in {args.out / 'chunks'}")
    return 0 if paths else 1


def play_all(args: argparse.Namespace) -> tuple[list[Path], list[str]]:
    """Every game, `workers` at a time; a game whose engine fails is reported, not fatal."""
    paths, lost = [], []
    with (
        GameProgress(args.games, "gnugo games") as progress,
        ThreadPoolExecutor(args.workers) as pool,
    ):
        futures = {pool.submit(run_game, args.out, i, args): i for i in range(args.games)}
        for future in as_completed(futures):
            try:
                paths.append(future.result())
            except (EngineFailure, GTPError) as exc:
                lost.append(f"game {futures[future]} (seed {args.seed + futures[future]}): {exc}")
            progress.game_done()
    return paths, lost
