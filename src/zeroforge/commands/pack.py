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
from zeroforge.formats.chunks import ChunkError, read_chunk_packed
from zeroforge.formats.lzdebug import DebugFileError, debug_path_for, read_debug
from zeroforge.formats.shards import POLICY_DTYPES, SUFFIX, ShardError, make_records, write_records

DEFAULT_RECORDS_PER_SHARD = 50_000  # ~110 MB with a float32 policy


@dataclass
class ShardWriter:
    """Collects records of one field set and writes a shard whenever enough are there."""

    out_dir: Path
    name: str
    records_per_shard: int
    parts: list[np.ndarray] = field(default_factory=list)
    pending: int = 0
    written: list[Path] = field(default_factory=list)

    def add(self, records: np.ndarray) -> None:
        self.parts.append(records)
        self.pending += len(records)
        while self.pending >= self.records_per_shard:
            self._write(self.records_per_shard)

    def close(self) -> None:
        if self.pending:
            self._write(self.pending)

    def _write(self, count: int) -> None:
        whole = np.concatenate(self.parts)
        path = self.out_dir / f"{self.name}-{len(self.written):05d}{SUFFIX}"
        write_records(path, whole[:count])
        self.written.append(path)
        self.parts, self.pending = [whole[count:]], len(whole) - count


def chunk_records(path: str, policy_dtype: str) -> np.ndarray:
    """A chunk's records (planes stay bit-packed), with q and net value when its dump_debug
    file exists."""
    (planes, side, policy, winner), _, _ = read_chunk_packed(path, "raise")
    arrays = {"planes": planes, "side_to_move": side, "policy": policy, "winner": winner}
    debug = debug_path_for(path)
    if debug.exists():
        values = read_debug(debug)
        if len(values) != len(winner):
            raise DebugFileError(
                f"{debug}: {len(values)} search values but {path} has {len(winner)} records"
            )
        arrays.update(q=values.q, net_value=values.net_value)
    try:
        return make_records(arrays, policy_dtype)
    except ValueError as exc:
        raise ShardError(f"{path}: {exc}") from None


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
        q: ShardWriter(out_dir, f"{prefix}-q" if q else prefix, records_per_shard)
        for q in (True, False)
    }
    records = with_q = 0
    for path in chunks:
        chunk = chunk_records(path, policy_dtype)
        has_q = "q" in chunk.dtype.names
        writers[has_q].add(chunk)
        records += len(chunk)
        with_q += len(chunk) if has_q else 0
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
