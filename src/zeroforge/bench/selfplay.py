"""Benchmark area `selfplay`: self-play games/hour against workers, for random 2x16 and 6x64
nets, end to end (`play.selfplay.run_selfplay`: leelaz games, GNU Go scoring, dumps, checks,
atomic publishing). The reference, measured in the same run, is one worker: the figure that
carries across machines is the speed-up with more workers (one leelaz thread per game).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from zeroforge.bench import BenchResult
from zeroforge.play.selfplay import SelfplayOptions, run_selfplay

WORKERS = (1, 2)
SCORE_LEVEL = 1  # GNU Go's final_score reads random nets' chaotic boards for 20-90 s at 10


def _nets(quick: bool) -> list[tuple[str, int, int, int, int]]:
    """(name, blocks, filters, playouts, games per worker)."""
    if quick:
        return [("2x16", 2, 16, 1, 1)]
    return [("2x16", 2, 16, 20, 2), ("6x64", 6, 64, 20, 1)]


def _export(blocks: int, filters: int, folder: Path) -> str:
    import torch

    from zeroforge.convert.lzweights import export_net
    from zeroforge.nn.lznet import LZNet

    torch.manual_seed(2026)
    path = folder / f"random-{blocks}x{filters}.txt"
    export_net(LZNet(blocks=blocks, filters=filters).eval(), path)
    return str(path)


def _measure(weights: str, playouts: int, games: int, workers: int, cap: int, out: Path):
    options = SelfplayOptions(
        weights=weights, playouts=playouts, seed=7, max_moves=cap, score_level=SCORE_LEVEL
    )
    stats = run_selfplay(options, games, workers, out, show_progress=False)
    moves = sum(game.moves for game in stats.games)
    return stats.games_per_hour, moves / stats.seconds, moves / len(stats.games)


def run(quick: bool) -> BenchResult:
    cap = 100 if quick else 0
    figures: dict[str, float] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="zfbench", dir="/tmp") as scratch:
        for name, blocks, filters, playouts, per_worker in _nets(quick):
            weights = _export(blocks, filters, Path(scratch))
            for workers in WORKERS:
                out = Path(scratch) / f"{name}-w{workers}"
                rate, moves_s, moves_game = _measure(
                    weights, playouts, per_worker * workers, workers, cap, out
                )
                figures[f"selfplay_{name}_w{workers}_games_per_hour"] = rate
                figures[f"selfplay_{name}_w{workers}_moves_per_s"] = moves_s
                rows.append(
                    (name, playouts, workers, per_worker * workers, rate, moves_s, moves_game)
                )
            ratio = figures[f"selfplay_{name}_w2_games_per_hour"] / max(
                figures[f"selfplay_{name}_w1_games_per_hour"], 1e-9
            )
            figures[f"selfplay_{name}_w2_vs_w1_ratio"] = ratio
    return BenchResult(figures, _markdown(figures, rows, quick, cap))


def _markdown(figures: dict, rows: list, quick: bool, cap: int) -> str:
    lines = [
        "## Self-play games/hour against workers (`selfplay`)",
        "",
        "`zeroforge selfplay` end to end with random nets (`LZNet` exported by "
        "`convert.lzweights`, torch seed 2026): leelaz `--cpu-only -t 1 -m 30 -n -d -r 1`, one "
        f"process per game, finished games scored by GNU Go `final_score` at level {SCORE_LEVEL}"
        + (f", games capped at {cap} moves (scored by `estimate_score`)" if cap else "")
        + ". Random nets rarely pass, so their games run long (400-800 moves).",
        "",
        "| net | playouts | workers | games | games/hour | moves/s | moves/game |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, playouts, workers, games, rate, moves_s, moves_game in rows:
        lines.append(
            f"| {name} | {playouts} | {workers} | {games} | {rate:,.0f} | {moves_s:,.0f} | "
            f"{moves_game:,.0f} |"
        )
    lines.append("")
    for key, value in figures.items():
        if key.endswith("_ratio"):
            net = key.split("_")[1]
            lines.append(f"- {net}: 2 workers / 1 worker (reference, same run) = **{value:.2f}x**")
    lines += [
        "",
        "The machine has 2 cores shared with other work, so 2 workers give at most 2x; "
        "GNU Go's scoring is part of each game's time.",
        "",
        "Reproduce: `.venv/bin/zeroforge bench --only selfplay` (`--quick`: 2x16, `-p 1`, "
        "100-move cap).",
    ]
    return "\n".join(lines)
