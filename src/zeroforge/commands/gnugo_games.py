"""`zeroforge gnugo-games --games N --workers K --out DIR`: GNU Go vs GNU Go games as data.

Game i plays with `--seed` + i in its own GNU Go process (level, Chinese rules, komi) and
appears as `DIR/NAME.sgf` atomically when it is over. Rerun the same command to resume: games
already in DIR are skipped, so a killed run loses at most the games in flight; raise `--games`
to extend a corpus. `--chunks` also converts the run's games with `sgf2chunks`' converter into
DIR/chunks. See `zeroforge.play.gnugo_games`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroforge.play.engines import EngineNotFound, engine_path
from zeroforge.play.gnugo_games import (
    DEFAULT_KOMI,
    DEFAULT_MAX_MOVES,
    GnugoGameOptions,
    GnugoGamesStats,
    game_paths,
    run_games,
)
from zeroforge.play.interrupt import signals_stop


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge gnugo-games", description=__doc__)
    parser.add_argument("--games", type=int, required=True, help="games 0..N-1 of the run")
    parser.add_argument("--out", type=Path, required=True, help="directory for the SGF files")
    parser.add_argument("--level", type=int, default=1, help="GNU Go level (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="games played at once")
    parser.add_argument("--seed", type=int, default=1, help="seed of game 0; game i gets seed+i")
    parser.add_argument(
        "--max-moves", type=int, default=DEFAULT_MAX_MOVES, help="stop (and estimate) after this"
    )
    parser.add_argument("--handicap", type=int, default=0, help="fixed handicap stones (2-9)")
    parser.add_argument("--komi", type=float, default=DEFAULT_KOMI)
    parser.add_argument("--chunks", action="store_true", help="also write training chunks")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> str | None:
    if min(args.games, args.workers, args.max_moves) < 1:
        return "--games, --workers and --max-moves must be >= 1"
    if args.handicap == 1 or not 0 <= args.handicap <= 9:
        return "--handicap 0 or 2-9"
    if args.seed < 0:
        return "--seed must be >= 0"
    try:
        engine_path("gnugo")
    except EngineNotFound as exc:
        return str(exc)
    return None


def report(stats: GnugoGamesStats, out: Path) -> None:
    if stats.played:
        print(
            f"{len(stats.played)} games played in {stats.seconds:,.0f} s with {stats.workers} "
            f"workers: {stats.games_per_hour:,.0f} games/hour, "
            f"{stats.games_per_hour_per_core:,.0f} per core ({stats.cores_used} used); "
            f"{stats.tallies()}"
        )
    total = len(stats.already_there) + len(stats.paths)
    print(f"{total} games in {out} ({len(stats.already_there)} were there before)")
    for message in stats.lost:
        print(f"  lost: {message.splitlines()[0]}", file=sys.stderr)
    if stats.lost or stats.interrupted:
        print("gnugo-games: rerun the same command to play the missing games", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    problem = check_args(args)
    if problem:
        print(f"gnugo-games: {problem}", file=sys.stderr)
        return 1
    options = GnugoGameOptions(args.level, args.komi, args.handicap, args.max_moves, args.seed)
    with signals_stop():  # Ctrl-C and SIGTERM (kill, timeout): games in flight dropped
        stats = run_games(options, args.games, args.workers, args.out, not args.no_progress)
    report(stats, args.out)
    if stats.interrupted:
        return 130
    published = [path for path in game_paths(options, args.games, args.out) if path.exists()]
    if args.chunks and published:
        from zeroforge.commands.sgf2chunks import convert_to_dir

        conversion, written = convert_to_dir(published, args.out / "chunks")
        print(f"{conversion.positions} positions in {len(written)} chunks in {args.out / 'chunks'}")
    return 0 if len(published) == args.games else 1
