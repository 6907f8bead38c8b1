"""`zeroforge data pack IN... OUT_DIR`: text chunks (+ their q) -> packed binary shards.

IN are chunk files, directories (searched for chunks) or globs. A chunk `D/chunks/NAME.gz`
written by `zeroforge selfplay` has its search values in `D/debug/NAME.debug`; when that file
exists, its q and raw net value go into the shard (and its line count must equal the chunk's
record count). Chunks with q and chunks without go to separate shards, since a shard's fields
are the same for every record: `OUT_DIR/PREFIX-q-00000.zfs`, `OUT_DIR/PREFIX-00000.zfs`, ...
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zeroforge.data.files import expand_paths, file_kind
from zeroforge.formats.chunks import ChunkError, Positions, read_chunk
from zeroforge.formats.lzdebug import DebugFileError, debug_path_for, read_debug
from zeroforge.formats.shards import POLICY_DTYPES, SUFFIX, Shard, ShardError, write_shard

DEFAULT_RECORDS_PER_SHARD = 50_000  # ~110 MB with a float32 policy


@dataclass
class ShardWriter:
    """Collects shards of one field set and writes them when full."""

    out_dir: Path
    name: str
    records_per_shard: int
    policy_dtype: str
    parts: list[Shard] = field(default_factory=list)
    pending: int = 0
    written: list[Path] = field(default_factory=list)

    def add(self, shard: Shard) -> None:
        self.parts.append(shard)
        self.pending += len(shard)
        while self.pending >= self.records_per_shard:
            self._write(self.records_per_shard)

    def close(self) -> None:
        if self.pending:
            self._write(self.pending)

    def _write(self, count: int) -> None:
        whole = _concat(self.parts)
        path = self.out_dir / f"{self.name}-{len(self.written):05d}{SUFFIX}"
        write_shard(path, _slice(whole, 0, count), self.policy_dtype)
        self.written.append(path)
        rest = _slice(whole, count, len(whole))
        self.parts, self.pending = ([rest] if len(rest) else []), len(rest)


def _concat(parts: list[Shard]) -> Shard:
    if len(parts) == 1:
        return parts[0]

    def join(name: str):
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else np.concatenate(values)

    positions = Positions.concat([p.positions for p in parts])
    return Shard(positions, join("q"), join("net_value"))


def _slice(shard: Shard, start: int, end: int) -> Shard:
    cut = slice(start, end)
    optional = {
        name: None if getattr(shard, name) is None else getattr(shard, name)[cut]
        for name in ("q", "net_value")
    }
    return Shard(shard.positions[cut], **optional)


def chunk_with_values(path: str) -> Shard:
    """A chunk's positions, with q and net value when its dump_debug file exists."""
    positions = read_chunk(path).positions
    debug = debug_path_for(path)
    if not debug.exists():
        return Shard(positions)
    values = read_debug(debug)
    if len(values) != len(positions):
        raise DebugFileError(
            f"{debug}: {len(values)} search values but {path} has {len(positions)} records"
        )
    return Shard(positions, values.q.astype(np.float32), values.net_value.astype(np.float32))


def pack_files(
    inputs: list[str],
    out_dir: Path,
    records_per_shard: int = DEFAULT_RECORDS_PER_SHARD,
    policy_dtype: str = "float32",
    prefix: str = "shard",
) -> tuple[list[Path], int, int]:
    """Pack every chunk of `inputs`; returns (shards written, records, records with q)."""
    chunks = [p for p in expand_paths(inputs) if file_kind(p).name == "chunk"]
    if not chunks:
        raise FileNotFoundError(f"no text chunks in {' '.join(inputs)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    clash = sorted(out_dir.glob(f"{prefix}-*{SUFFIX}"))
    if clash:
        raise FileExistsError(f"{clash[0]} exists: choose another OUT_DIR or --prefix")
    writers = {
        q: ShardWriter(out_dir, f"{prefix}-q" if q else prefix, records_per_shard, policy_dtype)
        for q in (True, False)
    }
    records = with_q = 0
    for path in chunks:
        shard = chunk_with_values(path)
        writers[shard.q is not None].add(shard)
        records += len(shard)
        with_q += len(shard) if shard.q is not None else 0
    for writer in writers.values():
        writer.close()
    return writers[True].written + writers[False].written, records, with_q


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="zeroforge data pack", description=__doc__)
    parser.add_argument("inputs", nargs="+", metavar="IN", help="chunk files, directories, globs")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--records-per-shard", type=int, default=DEFAULT_RECORDS_PER_SHARD)
    parser.add_argument("--policy-dtype", choices=sorted(POLICY_DTYPES), default="float32")
    parser.add_argument("--prefix", default="shard", help="shard names: PREFIX[-q]-NNNNN.zfs")
    args = parser.parse_args(argv)
    if args.records_per_shard < 1:
        print("zeroforge data pack: --records-per-shard must be >= 1", file=sys.stderr)
        return 1
    try:
        written, records, with_q = pack_files(
            args.inputs, args.out_dir, args.records_per_shard, args.policy_dtype, args.prefix
        )
    except (OSError, ChunkError, DebugFileError, ShardError) as exc:
        print(f"zeroforge data pack: {exc}", file=sys.stderr)
        return 1
    print(f"{records:,} positions ({with_q:,} with q) -> {len(written)} shards in {args.out_dir}")
    return 0
