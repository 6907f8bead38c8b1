"""Benchmark area `match`: games per hour of `zeroforge match` with 1 and with 2 workers.

A cheap fixed pairing, GNU Go level 1 against itself with a move cap (games scored by GNU Go's
estimate), is played twice through `play.match.run_match`: once on one worker, once on two.
The one-worker rate is the reference measured in the same run; the figure that matters is
the ratio (ideally the worker count, on a machine with that many free cores). Wall-clock
time, since parallel games are the point: other jobs on a shared machine lower both runs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from zeroforge.bench import BenchResult
from zeroforge.play.match import Match, run_match, unique_players
from zeroforge.play.specs import parse_flag

FULL = {"games": 8, "max_moves": 60}
QUICK = {"games": 4, "max_moves": 20}
PAIRING = ("gnugo:level=1", "gnugo:level=1,seed=1000")
WORKERS = (1, 2)


def games_per_hour(workers: int, games: int, max_moves: int, folder: Path) -> tuple[float, int]:
    """Play the pairing on `workers` workers; (games per hour, moves played)."""
    players = unique_players([parse_flag(text) for text in PAIRING])
    match = Match(
        players=players,
        out=folder / f"workers-{workers}",
        games=games,
        max_moves=max_moves,
        workers=workers,
    )
    start = time.monotonic()
    records = run_match(match)
    elapsed = time.monotonic() - start
    errors = [r for r in records if r.get("error")]
    if errors:
        raise RuntimeError(f"bench match: game {errors[0]['game']} failed: {errors[0]['error']}")
    return games * 3600 / elapsed, sum(r["moves"] for r in records)


def run(quick: bool) -> BenchResult:
    size = QUICK if quick else FULL
    folder = Path(tempfile.mkdtemp(prefix="zfbench-match-"))
    try:
        rates = {w: games_per_hour(w, size["games"], size["max_moves"], folder) for w in WORKERS}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    one, two = rates[1][0], rates[2][0]
    figures = {
        "match_games_per_hour_1_worker": one,
        "match_games_per_hour_2_workers": two,
        "match_2_vs_1_workers_ratio": two / one,
    }
    return BenchResult(figures, _markdown(size, rates, quick))


def _markdown(size: dict, rates: dict, quick: bool) -> str:
    lines = [
        f"### Match throughput: GNU Go level 1 vs itself, {size['games']} games capped at "
        f"{size['max_moves']} moves",
        "",
        "| workers | games per hour | moves per second |",
        "|---:|---:|---:|",
    ]
    for workers, (rate, moves) in rates.items():
        lines.append(f"| {workers} | {rate:.0f} | {moves * rate / size['games'] / 3600:.1f} |")
    ratio = rates[2][0] / rates[1][0]
    lines += [
        "",
        f"2 workers play {ratio:.2f}x the games per hour of 1 worker (reference: the 1-worker "
        "run above, same session). Wall-clock; other jobs on the machine lower both.",
        "",
        f"Reproduce: `zeroforge bench --only match{' --quick' if quick else ''}`",
    ]
    return "\n".join(lines)
