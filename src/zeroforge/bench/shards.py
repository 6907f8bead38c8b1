"""Benchmark area `shards`: reading packed binary shards vs reading gzip text chunks.

The same positions (data/sample's chunks, or synthetic ones when it is missing) are read by the
dataset's two readers (`data.files`): text chunks (`formats.chunks.read_chunk_packed`, the
reference) and shards (`formats.shards.read_shard_records`, float32 policy). Both deliver the
same records (packed planes, side to move, float32 policy, winner) with every record checked.
Speed is positions per CPU second of this process (one thread), runs alternate, medians.
A second pair of figures goes through the whole `GoDataset` (shuffle buffer, symmetries).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from zeroforge.bench import BenchResult
from zeroforge.bench.chunks import bench_files
from zeroforge.commands.pack import pack_files
from zeroforge.data.dataset import GoDataset
from zeroforge.data.files import read_text_chunk
from zeroforge.formats.shards import read_shard_records

TARGET_RATIO = 5.0  # issue 6: shards at least 5x faster to read than text chunks
MIN_SECONDS = 0.2  # repeat reading the files until one timing lasts this long
BATCH = 256


def _read_rate(files: list[str], read) -> float:
    """Positions per CPU second, reading all files as often as it takes to last MIN_SECONDS."""
    positions, start = 0, time.process_time()
    while True:
        for path in files:
            records, bad, _ = read(path, "raise")
            positions += len(records["winner"])
        elapsed = time.process_time() - start
        if elapsed >= MIN_SECONDS:
            return positions / elapsed


def _dataset_rate(files: list[str], seed: int) -> float:
    start = time.process_time()
    data = GoDataset(files, batch_size=BATCH, shuffle_buffer=4096, seed=seed)
    n = sum(len(batch["z"]) for batch in data)
    return n / (time.process_time() - start)


def _size(files: list[str]) -> int:
    return sum(Path(f).stat().st_size for f in files)


def run(quick: bool) -> BenchResult:
    torch.set_num_threads(1)
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="zfbench") as scratch:
        chunks, source = bench_files(scratch)
        shards, positions, _ = pack_files(chunks, Path(scratch) / "shards")
        shards = [str(p) for p in shards]
        runs = {"text": [], "shard": [], "text_ds": [], "shard_ds": []}
        for r in range(repeats):
            runs["text"].append(_read_rate(chunks, read_text_chunk))
            runs["shard"].append(_read_rate(shards, read_shard_records))
            runs["text_ds"].append(_dataset_rate(chunks, r))
            runs["shard_ds"].append(_dataset_rate(shards, r))
        sizes = (_size(chunks), _size(shards))
    rate = {key: statistics.median(values) for key, values in runs.items()}
    figures = {
        "shard_pos_per_s_per_core": rate["shard"],
        "text_chunks_pos_per_s_per_core_ref": rate["text"],
        "shard_vs_text_read_ratio": rate["shard"] / rate["text"],
        "shard_batches_pos_per_s_per_core": rate["shard_ds"],
        "text_chunks_batches_pos_per_s_per_core_ref": rate["text_ds"],
        "shard_vs_text_batches_ratio": rate["shard_ds"] / rate["text_ds"],
    }
    return BenchResult(figures, _markdown(figures, positions, len(chunks), source, sizes, repeats))


def _markdown(figures, positions, files, source, sizes, repeats) -> str:
    ratio = figures["shard_vs_text_read_ratio"]
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    return "\n".join(
        [
            "## Packed binary shards vs text chunks (`shards`)",
            "",
            f"{positions:,} positions from {files} gzip chunk files ({source}), packed by "
            f"`zeroforge data pack` (float32 policy). One process, one thread, positions per "
            f"CPU second; {repeats} alternating runs, medians. Every record is validated by "
            "both readers.",
            "",
            "| reading | positions/s per core |",
            "|---|---:|",
            f"| shards: `formats.shards.read_shard_records` | "
            f"{figures['shard_pos_per_s_per_core']:,.0f} |",
            f"| reference, same run: text chunks, `formats.chunks.read_chunk_packed` | "
            f"{figures['text_chunks_pos_per_s_per_core_ref']:,.0f} |",
            f"| **ratio shards / text** | **{ratio:.1f}x** |",
            f"| whole `GoDataset` (batch {BATCH}, symmetries): shards | "
            f"{figures['shard_batches_pos_per_s_per_core']:,.0f} |",
            f"| whole `GoDataset`: text chunks (reference) | "
            f"{figures['text_chunks_batches_pos_per_s_per_core_ref']:,.0f} |",
            f"| ratio through the dataset | {figures['shard_vs_text_batches_ratio']:.1f}x |",
            "",
            f"Bytes on disk: {sizes[0]:,} (gzip text) vs {sizes[1]:,} (shards, uncompressed): "
            "shards trade disk for no parsing. Through the dataset, augmentation (unpacking, "
            "symmetries) costs the same for both and dilutes the ratio.",
            "",
            f"Target of issue 6: reading >= {TARGET_RATIO:.0f}x faster than text chunks: "
            f"**{verdict}** in this run.",
            "",
            "Reproduce: `.venv/bin/zeroforge bench --only shards` (`--quick` for a short run).",
        ]
    )
