"""`zeroforge nnue gensfen`: chess training data from Stockfish self-play (`play.gensfen`).

    zeroforge nnue gensfen OUT.binpack|OUT.bin|OUT.plain (--games N | --positions N)
              (--depth D | --nodes N) [--random-plies 8 [--random-moves K]]
              [--write-min-ply 0] [--seed 0] [--workers N]
              [--max-plies 400] [--resign-score 3000 [--resign-plies 1]]
              [--draw-score 10 [--draw-plies 8] [--draw-min-ply 80]]
              [--skip-in-check] [--skip-captures] [--skip-value-none]
              [--engine PATH] [--option NAME=VALUE ...]

Rerunning the same command resumes (OUT.gensfen.jsonl logs each game; OUT.gensfen.json holds
the settings). Scores are Stockfish internal units (VALUE_MATE 32000 minus plies for mates,
VALUE_NONE 32002 without a score), side to move's view; result 1/0/-1 for the side to move.
Filters (in check, best move a capture, no score) are counted always, applied only when asked.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from zeroforge.play.chessrules import Adjudication
from zeroforge.play.gensfen import FILTERS, GensfenConfig, GensfenError, Target, run
from zeroforge.play.interrupt import signals_stop
from zeroforge.play.match import core_count

SKIP_FLAGS = {
    "skip_in_check": "in_check",
    "skip_captures": "capture",
    "skip_value_none": "value_none",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zeroforge nnue gensfen",
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", type=Path, help="output file: .binpack, .bin or .plain")
    amount = p.add_mutually_exclusive_group(required=True)
    amount.add_argument("--games", type=int, help="games to play (ids 0..N-1)")
    amount.add_argument("--positions", type=int, help="play games until N records are written")
    limit = p.add_mutually_exclusive_group(required=True)
    limit.add_argument("--depth", type=int, help="search depth per position")
    limit.add_argument("--nodes", type=int, help="search nodes per position")
    p.add_argument("--random-plies", type=int, default=8, help="random opening plies (8)")
    p.add_argument(
        "--random-moves", type=int, help="only this many random moves, at plies drawn among them"
    )
    p.add_argument("--write-min-ply", type=int, default=0, help="record from this ply on (0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random openings (0)")
    p.add_argument("--workers", type=int, help="games in parallel (default: core count)")
    p.add_argument("--max-plies", type=int, default=400, help="game length cap, a draw (400)")
    p.add_argument("--resign-score", type=int, help="adjudicate a win at |score| >= this")
    p.add_argument("--resign-plies", type=int, default=1, help="... on this many plies (1)")
    p.add_argument("--draw-score", type=int, help="adjudicate a draw at |score| <= this")
    p.add_argument("--draw-plies", type=int, default=8, help="... on this many plies (8)")
    p.add_argument("--draw-min-ply", type=int, default=80, help="... from this ply on (80)")
    p.add_argument("--skip-in-check", action="store_true", help="drop positions in check")
    p.add_argument(
        "--skip-captures", action="store_true", help="drop positions whose move captures"
    )
    p.add_argument("--skip-value-none", action="store_true", help="drop positions without a score")
    p.add_argument("--engine", default="stockfish", help="Stockfish binary (default: stockfish)")
    p.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE", help="a UCI option"
    )
    return p


def build_config(args: argparse.Namespace) -> GensfenConfig:
    options = {}
    for item in args.option:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise GensfenError(f"--option {item!r}: want NAME=VALUE")
        options[name.strip()] = value.strip()
    try:
        adjudication = Adjudication(
            max_plies=args.max_plies,
            resign_score=args.resign_score,
            resign_plies=args.resign_plies,
            draw_score=args.draw_score,
            draw_plies=args.draw_plies,
            draw_min_ply=args.draw_min_ply,
        )
    except ValueError as err:
        raise GensfenError(str(err)) from None
    suffix = args.out.suffix.lstrip(".")
    return GensfenConfig(
        limits={"depth": args.depth} if args.depth is not None else {"nodes": args.nodes},
        random_plies=args.random_plies,
        random_moves=args.random_moves,
        write_min_ply=args.write_min_ply,
        seed=args.seed,
        adjudication=adjudication,
        skip=tuple(f for flag, f in SKIP_FLAGS.items() if getattr(args, flag)),
        binary=args.engine,
        options=options,
        fmt=suffix,
    )


def totals(records: list[dict]) -> dict:
    """Counts over the log: games, errors, positions, searched, filters, results, plies."""
    played = [r for r in records if not r.get("error")]
    results = {"1-0": 0, "0-1": 0, "1/2-1/2": 0}
    for r in played:
        results[r["result"]] += 1
    return {
        "games": len(played),
        "errors": len(records) - len(played),
        "positions": sum(r["positions"] for r in played),
        "searched": sum(r["searched"] for r in played),
        "matched": {f: sum(r["matched"][f] for r in played) for f in FILTERS},
        "results": results,
        "plies": sum(r["plies"] for r in played),
        "cpu_positions": sum(r["positions"] for r in played if r.get("cpu_seconds")),
        "cpu_seconds": sum(r.get("cpu_seconds") or 0.0 for r in played),
    }


def describe(t: dict, skip: tuple[str, ...]) -> str:
    games = max(t["games"], 1)
    res = t["results"]
    shares = f"W {res['1-0'] / games:.0%} D {res['1/2-1/2'] / games:.0%} B {res['0-1'] / games:.0%}"
    filters = " ".join(
        f"{name}{' (dropped)' if name in skip else ''} {count}"
        for name, count in t["matched"].items()
    )
    return f"games {t['games']}  {shares}  {filters}  errors {t['errors']}"


def generate(args: argparse.Namespace, console: Console) -> tuple[dict, float]:
    config = build_config(args)
    target = Target(games=args.games, positions=args.positions)
    workers = args.workers or core_count()
    columns = [
        TextColumn("{task.fields[unit]}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    ]
    start, first = time.monotonic(), None
    with Progress(*columns, console=console) as progress:
        unit = "positions" if args.positions is not None else "games"
        task = progress.add_task("", total=args.positions or args.games, unit=unit, rate="")

        def on_game(records: list[dict]) -> None:
            nonlocal first
            t = totals(records)
            if first is None:
                first = t["positions"]
            elapsed = max(time.monotonic() - start, 1e-9)
            rate = f"{(t['positions'] - first) / elapsed:.0f} pos/s"
            done = t["positions"] if unit == "positions" else len(records)
            progress.update(task, completed=done, rate=rate, description=describe(t, config.skip))

        records = run(args.out, config, target, workers, on_game)
    elapsed = time.monotonic() - start
    new = totals(records)["positions"] - (first or 0)
    return totals(records), new / elapsed * 3600 / workers


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        with signals_stop():  # Ctrl-C and SIGTERM (kill, timeout): games in flight dropped
            t, per_core = generate(args, console)
    except GensfenError as err:
        print(f"zeroforge nnue gensfen: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "zeroforge nnue gensfen: interrupted; rerun the same command to resume", file=sys.stderr
        )
        return 130
    per_cpu = t["cpu_positions"] * 3600 / t["cpu_seconds"] if t["cpu_seconds"] else 0.0
    print(
        f"{args.out}: {t['positions']} positions from {t['games']} games "
        f"({t['searched']} searched, {t['errors']} games with errors); "
        f"this run: {per_core:,.0f} positions per hour per worker (wall clock); all games: "
        f"{per_cpu:,.0f} positions per CPU-hour (Stockfish + worker CPU time)"
    )
    return 0
