"""Benchmark area `chunks`: gzip text chunks -> augmented training batches, positions/s on one
core, beside a naive one-position-at-a-time parser (the reference) timed in the same run.

Both sides do the same job: decode every position of the files and deliver batches of 256
with the 18 input planes, the policy under a random symmetry and z. Runs alternate between
the two so machine noise hits both alike; the figures are medians.
"""

from __future__ import annotations

import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from zeroforge.bench import BenchResult
from zeroforge.data.dataset import GoDataset
from zeroforge.data.files import expand_paths
from zeroforge.formats.chunks import Positions, read_chunk, write_chunk
from zeroforge.go.geometry import NUM_MOVES, NUM_SYMMETRIES, transform_moves

BATCH = 256
SHUFFLE_BUFFER = 4096  # smaller than the data, so the buffer works as in training
TARGET_POS_PER_S, TARGET_RATIO = 40_000, 4.0  # issue 2
SAMPLE_DIR = "data/sample"


# ---- the reference: what a first parser looks like ------------------------------------


def naive_positions(path: str):
    """Yield (planes [16,361], side, policy [362], winner) one record at a time."""
    with gzip.open(path, "rt") as f:
        lines = [line.rstrip("\n") for line in f]
    for start in range(0, len(lines), 19):
        record = lines[start : start + 19]
        planes = np.zeros((16, 361), dtype=np.uint8)
        for i in range(16):
            bits = np.unpackbits(np.frombuffer(bytes.fromhex(record[i][:90]), dtype=np.uint8))
            planes[i, :360] = bits
            planes[i, 360] = int(record[i][90])
        policy = np.array([float(x) for x in record[17].split()], dtype=np.float32)
        yield planes, int(record[16]), policy, int(record[18])


def naive_batches(files: list[str], rng: np.random.Generator):
    """Batches built position by position (symmetry per position), stacked every BATCH."""
    planes_out, policy_out, z_out = [], [], []
    for path in files:
        for planes, side, policy, winner in naive_positions(path):
            s = int(rng.integers(NUM_SYMMETRIES))
            full = np.zeros((18, 361), dtype=np.uint8)
            full[:16] = transform_moves(planes, s)
            full[16 + side] = 1
            planes_out.append(full.reshape(18, 19, 19))
            policy_out.append(transform_moves(policy, s))
            z_out.append(float(winner))
            if len(z_out) == BATCH:
                yield _stack(planes_out, policy_out, z_out)
                planes_out, policy_out, z_out = [], [], []
    if z_out:
        yield _stack(planes_out, policy_out, z_out)


def _stack(planes, policy, z) -> dict[str, torch.Tensor]:
    return {
        "planes": torch.from_numpy(np.stack(planes)),
        "policy": torch.from_numpy(np.stack(policy)),
        "z": torch.tensor(z),
    }


# ---- data and timing ---------------------------------------------------------------------


def bench_files(scratch: str) -> tuple[list[str], str]:
    """The chunk files the benchmarks read and where they came from: data/sample, or
    synthetic stand-ins written into `scratch` when it is missing."""
    files = _sample_files()
    if files:
        return files, SAMPLE_DIR
    return _synthetic_files(scratch), "synthetic: data/sample missing"


def _sample_files() -> list[str]:
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / SAMPLE_DIR).is_dir():
            try:
                return expand_paths(root / SAMPLE_DIR)
            except FileNotFoundError:
                pass
    return []


def _synthetic_files(folder: str, files: int = 4, per_file: int = 1500) -> list[str]:
    """Stand-in data when data/sample is missing: sparse stones, a few visited moves."""
    rng = np.random.default_rng(0)
    paths = []
    for k in range(files):
        planes = (rng.random((per_file, 16, 361)) < 0.12).astype(np.uint8)
        policy = np.zeros((per_file, NUM_MOVES), np.float32)
        for i in range(per_file):
            moves = rng.choice(NUM_MOVES, size=int(rng.integers(1, 20)), replace=False)
            visits = rng.random(len(moves))
            policy[i, moves] = visits / visits.sum()
        side = rng.integers(0, 2, per_file).astype(np.uint8)
        winner = rng.choice(np.array([-1, 1], np.int8), per_file)
        path = os.path.join(folder, f"synthetic-{k}.0.gz")
        write_chunk(path, Positions(planes, side, policy, winner))
        paths.append(path)
    return paths


def _check_same_positions(path: str) -> None:
    """Both parsers must decode the file identically, or the race means nothing."""
    ours = read_chunk(path).positions
    theirs = list(naive_positions(path))
    same = len(theirs) == len(ours) and all(
        np.array_equal(p, ours.planes[i])
        and s == ours.side_to_move[i]
        and np.array_equal(pol, ours.policy[i])
        and w == ours.winner[i]
        for i, (p, s, pol, w) in enumerate(theirs)
    )
    if not same:
        raise RuntimeError(f"bench chunks: the two parsers disagree on {path}")


def _timed(batches) -> tuple[float, int]:
    """CPU seconds of this process (one thread) and positions: per-core speed that other
    processes on the machine disturb far less than wall-clock time."""
    start = time.process_time()
    n = sum(len(batch["z"]) for batch in batches)
    return time.process_time() - start, n


def _rate(runs: list[tuple[float, int]]) -> float:
    return statistics.median(n / seconds for seconds, n in runs)


def _markdown(figures: dict, files: list[str], positions: int, repeats: int, source: str) -> str:
    ours, naive = (
        figures["text_chunks_pos_per_s_per_core"],
        figures["naive_parser_pos_per_s_per_core"],
    )
    decode = figures["text_chunks_decode_only_pos_per_s_per_core"]
    ratio = figures["text_chunks_vs_naive_ratio"]
    verdict = "met" if ours >= TARGET_POS_PER_S and ratio >= TARGET_RATIO else "NOT met"
    return "\n".join(
        [
            "## Training data: gzip text chunks -> augmented batches (`chunks`)",
            "",
            f"One process, `torch.set_num_threads(1)`, speed = positions per CPU second of that process; {positions:,} positions in {len(files)} "
            f"files ({source}), each side timed {repeats} times, alternating; medians.",
            "",
            "| pipeline | positions/s per core |",
            "|---|---:|",
            f"| zeroforge: `formats.chunks` + `data.dataset` (batch {BATCH}, random symmetry, "
            f"shuffle buffer {SHUFFLE_BUFFER:,}) | {ours:,.0f} |",
            f"| decode only: `read_chunk` (no batches) | {decode:,.0f} |",
            f"| reference, same run: naive one-position-at-a-time parser "
            f"(`bench/chunks.py` `naive_batches`) | {naive:,.0f} |",
            f"| **ratio zeroforge / naive** | **{ratio:.1f}x** |",
            "",
            f"Target of issue 2: >= {TARGET_POS_PER_S:,} positions/s per core and >= "
            f"{TARGET_RATIO:.0f}x the naive parser: **{verdict}** in this run.",
            "",
            "Reproduce: `.venv/bin/zeroforge bench --only chunks` (`--quick` for a short run).",
        ]
    )


def run(quick: bool) -> BenchResult:
    torch.set_num_threads(1)
    repeats = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="zfbench") as scratch:
        files, source = bench_files(scratch)
        if quick:
            files = files[:3]
        _check_same_positions(files[0])
        ours, naive, decode = [], [], []
        for r in range(repeats):
            data = GoDataset(files, batch_size=BATCH, shuffle_buffer=SHUFFLE_BUFFER, seed=r)
            ours.append(_timed(data))
            naive.append(_timed(naive_batches(files, np.random.default_rng(r))))
            decode.append(_timed({"z": read_chunk(f).positions.winner} for f in files))
    figures = {
        "text_chunks_pos_per_s_per_core": _rate(ours),
        "text_chunks_decode_only_pos_per_s_per_core": _rate(decode),
        "naive_parser_pos_per_s_per_core": _rate(naive),
    }
    figures["text_chunks_vs_naive_ratio"] = (
        figures["text_chunks_pos_per_s_per_core"] / figures["naive_parser_pos_per_s_per_core"]
    )
    return BenchResult(figures, _markdown(figures, files, ours[0][1], repeats, source))
