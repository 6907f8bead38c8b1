"""Benchmark area `gnugo`: GNU Go vs GNU Go games/hour against workers
(`play.gnugo_games.run_games` end to end: one GNU Go process per game, scoring, atomic SGF).
The reference, measured in the same run, is one worker; games/hour per core is the figure that
sizes a corpus, and the 2-worker / 1-worker ratio says how well the workers scale here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from zeroforge.bench import BenchResult
from zeroforge.play.gnugo_games import GnugoGameOptions, run_games

WORKERS = (1, 2)
SEED = 90000  # outside the seeds of the shipped corpora, so the bench plays fresh games


def _settings(quick: bool) -> tuple[GnugoGameOptions, int]:
    """(options, games per worker)."""
    if quick:
        return GnugoGameOptions(level=0, max_moves=12, seed=SEED), 1
    return GnugoGameOptions(level=1, seed=SEED), 2


def run(quick: bool) -> BenchResult:
    options, per_worker = _settings(quick)
    figures: dict[str, float] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="zfbench-gnugo-") as scratch:
        for workers in WORKERS:
            games = per_worker * workers
            stats = run_games(options, games, workers, Path(scratch) / f"w{workers}", False)
            moves = sum(game.moves for game in stats.played)
            key = f"gnugo_l{options.level}_w{workers}"
            figures[f"{key}_games_per_hour"] = stats.games_per_hour
            figures[f"{key}_games_per_hour_per_core"] = stats.games_per_hour_per_core
            rows.append(
                (
                    workers,
                    stats.cores_used,
                    len(stats.played),
                    stats.games_per_hour,
                    stats.games_per_hour_per_core,
                    moves / max(len(stats.played), 1),
                    stats.seconds / max(len(stats.played), 1) * workers,
                )
            )
    level = options.level
    figures[f"gnugo_l{level}_w2_vs_w1_ratio"] = figures[f"gnugo_l{level}_w2_games_per_hour"] / max(
        figures[f"gnugo_l{level}_w1_games_per_hour"], 1e-9
    )
    return BenchResult(figures, _markdown(figures, rows, options, quick))


def _markdown(figures: dict, rows: list, options: GnugoGameOptions, quick: bool) -> str:
    cap = f", capped at {options.max_moves} moves" if quick else ""
    lines = [
        "## GNU Go games/hour against workers (`gnugo`)",
        "",
        "`zeroforge gnugo-games` end to end (`play.gnugo_games.run_games`): GNU Go 3.8 "
        f"`--level {options.level} --chinese-rules`, one process per game playing both colours, "
        f"seeds {SEED}+i, komi {options.komi}{cap}, scored by the same process "
        "(`final_score`), each game written atomically as its own SGF.",
        "",
        "| workers | cores used | games | games/hour | games/hour per core | moves/game "
        "| s/game per worker |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, cores, games, rate, per_core, moves, seconds in rows:
        lines.append(
            f"| {workers} | {cores} | {games} | {rate:,.0f} | {per_core:,.0f} | {moves:,.0f} "
            f"| {seconds:,.1f} |"
        )
    ratio = figures[f"gnugo_l{options.level}_w2_vs_w1_ratio"]
    lines += [
        "",
        f"- 2 workers / 1 worker (reference, same run) = **{ratio:.2f}x**",
        "",
        "Each worker is a thread relaying GTP to its own GNU Go process, so the engines run in "
        "parallel; on a machine shared with other work the ratio stays under the core count. "
        "On an idle core a level-1 game takes ~17 s (docs/ENGINES.md#measured-figures), ~210 games/hour per core; the "
        "load average above says how far a run was from that.",
        "",
        "Reproduce: `.venv/bin/zeroforge bench --only gnugo` (`--quick`: level 0, 12-move cap, "
        "one game per worker).",
    ]
    return "\n".join(lines)
