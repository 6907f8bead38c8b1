"""Benchmark area `gensfen`: Stockfish training positions per hour per core from
`zeroforge nnue gensfen` (`play.gensfen.run`), on 1 worker and on 2.

The same games (seeded openings, depth-limited searches, resignation at 3000) are played on one
worker and then on two: the one-worker rate is the reference measured in the same run, and
positions per hour per worker on two workers over that is the scaling (1.0 when each worker has
a core of its own). Wall-clock time, worker start-up included; other jobs on a shared machine
lower both runs. Positions per CPU-hour (CPU time of the workers and their Stockfish processes,
from /proc) is what one core yields whatever else shares the machine.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from zeroforge.bench import BenchResult
from zeroforge.play import gensfen
from zeroforge.play.chessrules import Adjudication

FULL = {"games": 24, "depth": 8}
QUICK = {"games": 6, "depth": 4}
WORKERS = (1, 2)
RESIGN = 3000


def positions_per_hour(workers: int, size: dict, folder: Path) -> tuple[float, int, float]:
    """(positions per hour per worker, positions, positions per CPU-hour) for the bench games
    on `workers` workers; CPU time is the workers' and their Stockfish processes'."""
    config = gensfen.GensfenConfig(
        limits={"depth": size["depth"]},
        adjudication=Adjudication(resign_score=RESIGN),
        fmt="plain",
    )
    start = time.monotonic()
    target = gensfen.Target(games=size["games"])
    records = gensfen.run(folder / f"w{workers}.plain", config, target, workers)
    elapsed = time.monotonic() - start
    errors = [r for r in records if r.get("error")]
    if errors:
        raise RuntimeError(f"bench gensfen: game {errors[0]['game']}: {errors[0]['error']}")
    positions = sum(r["positions"] for r in records)
    cpu = sum(r["cpu_seconds"] for r in records)
    return positions * 3600 / elapsed / workers, positions, positions * 3600 / cpu


def run(quick: bool) -> BenchResult:
    size = QUICK if quick else FULL
    folder = Path(tempfile.mkdtemp(prefix="zfbench-gensfen-"))
    try:
        rates = {w: positions_per_hour(w, size, folder) for w in WORKERS}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    one, two = rates[1][0], rates[2][0]
    figures = {
        "gensfen_positions_per_hour_per_core_1_worker": one,
        "gensfen_positions_per_hour_per_core_2_workers": two,
        "gensfen_2_vs_1_workers_per_core_ratio": two / one,
        "gensfen_positions_per_cpu_hour": rates[1][2],
    }
    return BenchResult(figures, _markdown(size, rates, quick))


def _markdown(size: dict, rates: dict, quick: bool) -> str:
    lines = [
        f"### gensfen: Stockfish 15.1 self-play at depth {size['depth']}, {size['games']} "
        f"games (8 random opening plies, resign at {RESIGN})",
        "",
        "| workers | positions per hour per worker | positions per CPU-hour | positions |",
        "|---:|---:|---:|---:|",
    ]
    for workers, (rate, positions, per_cpu) in rates.items():
        lines.append(f"| {workers} | {rate:,.0f} | {per_cpu:,.0f} | {positions} |")
    ratio = rates[2][0] / rates[1][0]
    lines += [
        "",
        f"Per worker, 2 workers run at {ratio:.2f}x the rate of 1 worker (reference: the "
        "1-worker run above, same session; 1.0 means each worker has a core to itself). "
        "Wall-clock, worker start-up included. Positions per CPU-hour divides by the CPU time "
        "the workers and their Stockfish processes used (from /proc): what one core yields "
        "when it is not shared, whatever else runs on the machine.",
        "",
        f"Reproduce: `zeroforge bench --only gensfen{' --quick' if quick else ''}`",
    ]
    return "\n".join(lines)
