"""`zeroforge selfplay --weights NET --games N --workers K --out DIR`: leelaz self-play data.

Each game appears in DIR atomically: `chunks/NAME.gz` (training records), `debug/NAME.debug`
(search values q, gzip), `sgf/NAME.sgf`; point a trainer at DIR/chunks, or pack the directory into
shards with q (`zeroforge data pack DIR OUT`). Ctrl-C or SIGTERM (kill, timeout) stops the run:
the games in flight are dropped, the finished ones stay; there is no resume, a rerun plays all
its games again. See `zeroforge.play.selfplay`.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

from zeroforge.play.engines import EngineNotFound, engine_path
from zeroforge.play.interrupt import signals_stop
from zeroforge.play.selfplay import SEED_STRIDE, SelfplayError, SelfplayOptions, run_selfplay
from zeroforge.play.specs import leelaz_weights


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge selfplay", description=__doc__)
    parser.add_argument("--weights", required=True, help="LZ weights (text/.gz) or checkpoint")
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1, help="games played at once")
    search = parser.add_argument_group("engine (one of --playouts/--visits is required)")
    search.add_argument("--playouts", type=int, help="leelaz -p")
    search.add_argument("--visits", type=int, help="leelaz -v")
    search.add_argument("--threads", type=int, default=1, help="leelaz -t per game")
    search.add_argument("--random-moves", type=int, default=30, help="leelaz -m (autogtp: 30)")
    search.add_argument("--resign-pct", type=int, default=1, help="leelaz -r (autogtp: 1)")
    search.add_argument(
        "--no-resign-fraction",
        type=float,
        default=0.1,
        help="fraction of games played with -r 0 (default 0.1)",
    )
    search.add_argument("--komi", type=float, default=7.5)
    search.add_argument("--max-moves", type=int, default=0, help="stop and score (0: no cap)")
    search.add_argument(
        "--score-level", type=int, default=10, help="GNU Go level of final_score (default 10)"
    )
    parser.add_argument("--seed", type=int, help="seed of game 0 (default: random, printed)")
    parser.add_argument("--max-attempts", type=int, default=3, help="per game, on crashes")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> str | None:
    """A message for the user, or None when the arguments can be used."""
    if args.playouts is None and args.visits is None:
        return "give --playouts or --visits (without them leelaz searches without limit)"
    if min(args.games, args.workers, args.threads, args.max_attempts) < 1:
        return "--games, --workers, --threads and --max-attempts must be >= 1"
    if args.max_attempts > SEED_STRIDE:
        return f"--max-attempts must be <= {SEED_STRIDE} (seeds stay distinct per game)"
    if not 0 <= args.no_resign_fraction <= 1:
        return "--no-resign-fraction must be in [0, 1]"
    if float(args.komi).is_integer():
        return "--komi must not be an integer: a drawn game has no winner to train on"
    if not Path(args.weights).is_file():
        return f"no such weights file: {args.weights}"
    try:
        engine_path("leelaz")
        engine_path("gnugo")
    except EngineNotFound as exc:
        return str(exc)
    return None


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    problem = check_args(args)
    if problem:
        print(f"selfplay: {problem}", file=sys.stderr)
        return 1
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    with tempfile.TemporaryDirectory(prefix="zf-weights-", dir="/tmp") as workdir:
        options = SelfplayOptions(
            weights=leelaz_weights(str(Path(args.weights).resolve()), Path(workdir), "selfplay"),
            playouts=args.playouts,
            visits=args.visits,
            threads=args.threads,
            random_moves=args.random_moves,
            resign_pct=args.resign_pct,
            no_resign_fraction=args.no_resign_fraction,
            komi=args.komi,
            max_moves=args.max_moves,
            score_level=args.score_level,
            seed=seed,
            max_attempts=args.max_attempts,
        )
        print(f"selfplay: seed {seed}, {args.games} games, {args.workers} workers -> {args.out}")
        try:
            with signals_stop():  # Ctrl-C and SIGTERM (kill, timeout): games in flight dropped
                stats = run_selfplay(
                    options, args.games, args.workers, args.out, not args.no_progress
                )
        except SelfplayError as exc:
            print(f"selfplay: {exc}", file=sys.stderr)
            return 1
    records = sum(game.records for game in stats.games)
    resigned = sum(game.result.endswith("+R") for game in stats.games)
    print(
        f"{len(stats.games)} games, {records} positions, {resigned} resigned, "
        f"{len(stats.crashes)} engine crashes, {stats.games_per_hour:,.0f} games/hour"
    )
    for crash in stats.crashes:
        print(f"  lost: {crash.splitlines()[0]}", file=sys.stderr)
    if stats.interrupted:
        print(
            f"selfplay: interrupted; {len(stats.games)} finished games kept in {args.out} "
            f"(no resume: a rerun plays all {args.games} games again)",
            file=sys.stderr,
        )
        return 130
    return 0
