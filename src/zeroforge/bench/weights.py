"""Benchmark area `weights`: export and import of a Leela Zero weights file (20x256; 6x64 with
`--quick`), in seconds and MB/s of text, beside two references timed in the same run:
leelaz's own load of the same file (start to the reply to `name`, minus the same for a 1x8
net) and a plain Python writer (`f"{v:.9g}"` per number, `" ".join`).

Export = `export_net` (network -> rows -> text -> file), import = `load_net` (file -> rows
validated -> network). Times are CPU seconds (ours: this process; leelaz: the child's user +
sys time, from start to exit), the median of a few runs: on a shared 2-core machine wall time
swings several-fold with other people's jobs, CPU time much less.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from zeroforge.bench import BenchResult
from zeroforge.convert.lzweights import export_net, load_net, net_to_rows
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.play.engines import engine_path, have_engine
from zeroforge.play.gtp import GTPEngine

FULL_SHAPE, QUICK_SHAPE = (20, 256), (6, 64)
REPEATS = 3
TARGET_S = 3.0  # issue 3: export and import of a 20x256 net each under 3 s


def _cpu_s(job) -> float:
    start = time.process_time()
    job()
    return time.process_time() - start


def _median_time(job, repeats: int = REPEATS, measure=_cpu_s) -> float:
    """Median over `repeats` runs of `measure(job)` (default: this process's CPU seconds)."""
    return statistics.median(measure(job) for _ in range(repeats))


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _naive_export(model: LZNet, path: Path) -> None:
    with open(path, "w") as f:
        f.write("1\n")
        for row in net_to_rows(model):
            f.write(" ".join(f"{v:.9g}" for v in row.tolist()) + "\n")


def _leelaz_ready(weights: Path) -> None:
    """Start leelaz on `weights`, wait for the reply to `name` (it loads first), quit."""
    argv = [engine_path("leelaz"), "--cpu-only", "-g", "--noponder", "-t", "1", "-w", weights]
    with GTPEngine(argv) as engine:
        engine.send("name", timeout=300)


def _child_cpu_s(job) -> float:
    start = _children_cpu_s()
    job()
    return _children_cpu_s() - start  # the child has been waited for: its usage is counted


def _leelaz_load_s(weights: Path, tiny: Path) -> float | None:
    """Median time leelaz needs for `weights` beyond what it needs for a 1x8 net."""
    if not have_engine("leelaz"):
        return None
    big = _median_time(lambda: _leelaz_ready(weights), measure=_child_cpu_s)
    small = _median_time(lambda: _leelaz_ready(tiny), measure=_child_cpu_s)
    return max(big - small, 1e-6)


def run(quick: bool) -> BenchResult:
    blocks, filters = QUICK_SHAPE if quick else FULL_SHAPE
    shape = f"{blocks}x{filters}"
    torch.manual_seed(0)
    model = randomize_bn_stats(LZNet(blocks, filters), seed=0).eval()
    folder = Path(tempfile.mkdtemp(prefix="zfbench", dir="/tmp"))  # lowercase for leelaz
    try:
        txt, gz, naive, tiny = (folder / n for n in ("w.txt", "w.gz", "naive.txt", "tiny.txt"))
        export_net(randomize_bn_stats(LZNet(1, 8), seed=1), tiny)
        t = {
            "export": _median_time(lambda: export_net(model, txt)),
            "import": _median_time(lambda: load_net(txt)),
            "export_gz": _median_time(lambda: export_net(model, gz)),
            "import_gz": _median_time(lambda: load_net(gz)),
            "naive_export": _median_time(lambda: _naive_export(model, naive), repeats=1),
        }
        megabytes = os.path.getsize(txt) / 1e6
        gz_megabytes = os.path.getsize(gz) / 1e6
        leelaz_s = _leelaz_load_s(txt, tiny)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        f"weights_export_{shape}_s": t["export"],
        f"weights_import_{shape}_s": t["import"],
        f"weights_export_{shape}_mb_per_s": megabytes / t["export"],
        f"weights_import_{shape}_mb_per_s": megabytes / t["import"],
        f"weights_export_gz_{shape}_s": t["export_gz"],
        f"weights_import_gz_{shape}_s": t["import_gz"],
        f"weights_text_{shape}_mb": megabytes,
        "weights_export_vs_naive_speedup": t["naive_export"] / t["export"],
    }
    if leelaz_s is not None:
        figures[f"weights_leelaz_load_{shape}_s"] = leelaz_s
        figures["weights_import_vs_leelaz_ratio"] = t["import"] / leelaz_s
    return BenchResult(figures, _markdown(shape, t, megabytes, gz_megabytes, leelaz_s, quick))


def _markdown(shape, t, megabytes, gz_megabytes, leelaz_s, quick) -> str:
    rows = [
        ("export (.txt)", t["export"], megabytes),
        ("import (.txt, validated)", t["import"], megabytes),
        ("export (.gz, level 1)", t["export_gz"], gz_megabytes),
        ("import (.gz)", t["import_gz"], gz_megabytes),
        ("reference: naive Python export (`{v:.9g}`, join)", t["naive_export"], megabytes),
    ]
    if leelaz_s is not None:
        rows.append(("reference: leelaz 0.17 loading the .txt", leelaz_s, megabytes))
    lines = [
        f"### Leela Zero weights, {shape} ({megabytes:.0f} MB text, {gz_megabytes:.0f} MB gz)",
        "",
        "| job | CPU seconds | MB/s (file) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s:.2f} | {mb / s:.0f} |" for name, s, mb in rows]
    lines += [
        "",
        f"Export is {t['naive_export'] / t['export']:.1f}x the naive writer."
        + (f" Import takes {t['import'] / leelaz_s:.2f}x leelaz's own load." if leelaz_s else ""),
        f"Target (issue 3): export and import of 20x256 each under {TARGET_S:.0f} s.",
        "",
        f"Reproduce: `zeroforge bench --only weights{' --quick' if quick else ''}`",
    ]
    return "\n".join(lines)
