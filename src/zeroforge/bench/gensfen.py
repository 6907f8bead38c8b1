"""Benchmark area `gensfen`: Stockfish training positions per hour per core from
`zeroforge nnue gensfen` (`play.gensfen.run`), on 1 worker and on 2, and what each search
limit and opening setting yields per CPU-hour (the data engine's settings table).

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
from zeroforge.data.chess_records import ChessSummary
from zeroforge.play import gensfen
from zeroforge.play.chessrules import Adjudication

FULL = {"games": 24, "depth": 8}
QUICK = {"games": 6, "depth": 4}
WORKERS = (1, 2)
RESIGN = 3000
# The settings table: search limit, random plies (window, moves in it), first recorded ply.
# "r8" is 8 random plies then the engine (the corpus of data/chess-d6); "r5/24" is 5 random
# moves among the first 24 plies, recorded from ply 16 (nodchip's gensfen defaults).
SETTINGS = {
    "depth 4, r8": ({"depth": 4}, 8, None, 0),
    "depth 5, r8": ({"depth": 5}, 8, None, 0),
    "depth 6, r8": ({"depth": 6}, 8, None, 0),
    "depth 7, r8": ({"depth": 7}, 8, None, 0),
    "depth 8, r8": ({"depth": 8}, 8, None, 0),
    "depth 6, r5/24": ({"depth": 6}, 24, 5, 16),
    "depth 8, r5/24": ({"depth": 8}, 24, 5, 16),
    "nodes 1000, r8": ({"nodes": 1000}, 8, None, 0),
    "nodes 5000, r8": ({"nodes": 5000}, 8, None, 0),
}
SETTINGS_GAMES = {True: 2, False: 40}  # quick, full
SETTINGS_SEED = 1  # other openings than the worker-scaling runs (seed 0): no game played twice


def play(out: Path, games: int, workers: int, **settings) -> tuple[int, float, float]:
    """Play the bench games with these GensfenConfig settings (resignation at RESIGN, .plain
    output): (positions, wall seconds, CPU seconds of the workers and their Stockfish)."""
    config = gensfen.GensfenConfig(
        adjudication=Adjudication(resign_score=RESIGN), fmt="plain", **settings
    )
    start = time.monotonic()
    records = gensfen.run(out, config, gensfen.Target(games=games), workers)
    elapsed = time.monotonic() - start
    errors = [r for r in records if r.get("error")]
    if errors:
        raise RuntimeError(
            f"bench gensfen {out.stem}: game {errors[0]['game']}: {errors[0]['error']}"
        )
    positions = sum(r["positions"] for r in records)
    return positions, elapsed, sum(r["cpu_seconds"] for r in records)


def positions_per_hour(workers: int, size: dict, folder: Path) -> tuple[float, int, float]:
    """(positions per hour per worker, positions, positions per CPU-hour) for the bench games
    on `workers` workers."""
    out = folder / f"w{workers}.plain"
    positions, elapsed, cpu = play(out, size["games"], workers, limits={"depth": size["depth"]})
    return positions * 3600 / elapsed / workers, positions, positions * 3600 / cpu


def setting_row(name: str, games: int, folder: Path) -> dict:
    """One setting on one worker: positions per CPU-hour and what the positions look like."""
    limits, window, moves, min_ply = SETTINGS[name]
    out = folder / (name.replace(" ", "_").replace(",", "").replace("/", "-") + ".plain")
    positions, _, cpu = play(
        out, games, 1, limits=limits, random_plies=window, random_moves=moves,
        write_min_ply=min_ply, seed=SETTINGS_SEED,
    )  # fmt: skip
    summary = ChessSummary()
    summary.add_file(str(out))
    report = summary.report()
    return {
        "positions_per_cpu_hour": positions * 3600 / cpu,
        "positions": positions,
        "positions_per_game": positions / games,
        "draw_fraction": report["draw_fraction"],
        "median_abs_score": report["score_abs_percentiles"]["50"],
        "skipped_fraction": report["skipped_by_nnue_pytorch_fraction"],
    }


def run(quick: bool) -> BenchResult:
    size = QUICK if quick else FULL
    folder = Path(tempfile.mkdtemp(prefix="zfbench-gensfen-"))
    try:
        rates = {w: positions_per_hour(w, size, folder) for w in WORKERS}
        games = SETTINGS_GAMES[quick]
        table = {name: setting_row(name, games, folder) for name in SETTINGS}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    one, two = rates[1][0], rates[2][0]
    figures = {
        "gensfen_positions_per_hour_per_core_1_worker": one,
        "gensfen_positions_per_hour_per_core_2_workers": two,
        "gensfen_2_vs_1_workers_per_core_ratio": two / one,
        "gensfen_positions_per_cpu_hour": rates[1][2],
    }
    reference = table["depth 8, r8"]["positions_per_cpu_hour"]
    for name, row in table.items():
        key = name.replace(", ", "_").replace(" ", "").replace("/", "_")
        figures[f"gensfen_{key}_positions_per_cpu_hour"] = row["positions_per_cpu_hour"]
        figures[f"gensfen_{key}_vs_depth8_ratio"] = row["positions_per_cpu_hour"] / reference
    markdown = _markdown(size, rates, quick) + "\n\n" + _settings_markdown(table, games, quick)
    return BenchResult(figures, markdown)


def _settings_markdown(table: dict, games: int, quick: bool) -> str:
    reference = table["depth 8, r8"]["positions_per_cpu_hour"]
    lines = [
        f"### gensfen settings: positions per CPU-hour and what they hold ({games} games each, "
        "1 worker)",
        "",
        "| setting | positions per CPU-hour | vs depth 8, r8 | positions/game | draws | "
        "median abs(score) | skipped by nnue-pytorch's filters |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in table.items():
        lines.append(
            f"| {name} | {row['positions_per_cpu_hour']:,.0f} | "
            f"{row['positions_per_cpu_hour'] / reference:.2f} | {row['positions_per_game']:.0f} | "
            f"{100 * row['draw_fraction']:.1f} % | {row['median_abs_score']:.0f} | "
            f"{100 * row['skipped_fraction']:.1f} % |"
        )
    lines += [
        "",
        "r8: 8 uniformly random plies, then Stockfish plays and every searched position is "
        "recorded; r5/24: 5 random moves among the first 24 plies, recorded from ply 16 "
        "(nodchip's gensfen). Resignation at 3000, no draw adjudication, 400-ply cap. Scores "
        "in Stockfish internal units (361 a pawn). Real Stockfish training data holds about "
        "38 % draws. The ratio column is against the depth-8 row of the same run; CPU time "
        "is the worker's and its Stockfish's (from /proc), so other jobs on the machine do "
        "not change it much.",
        "",
        f"Reproduce: `zeroforge bench --only gensfen{' --quick' if quick else ''}`",
    ]
    return "\n".join(lines)


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
    ]
    return "\n".join(lines)
