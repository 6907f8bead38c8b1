"""`zeroforge sgf2chunks SGF... --out DIR`: SGF games -> Leela Zero training chunks.

The records equal those of leelaz's `dump_supervised` for the same games (`data.supervised`),
written like it: `DIR/PREFIX.N.gz`, 32 games per chunk, but in input order (leelaz shuffles the
games) and without aborting the run on an unusable game: those are skipped and counted.
Arguments may be SGF files (one game or a collection) or directories searched for `*.sgf`.

`--shards` writes binary shards (`DIR/PREFIX.N.zfs`, formats/shards.py) instead, with two more
training-only targets per position: the final ownership of every point and the final score
margin, read from the game's TB/TW (`zeroforge annotate` writes them; games without are skipped
and counted); and, for games annotated by `zeroforge annotate --teacher` (ZM/ZS), the teacher's
candidate moves with their values and its score estimate. Every shard has the teacher fields,
masked where a game has none, so shards of games with and without them train together.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from zeroforge.commands import report_missing
from zeroforge.data.supervised import ConversionStats, convert_games
from zeroforge.formats.chunks import Positions, write_chunk
from zeroforge.formats.shards import TEACHER_FIELDS, Shard, write_shard

GAMES_PER_CHUNK = 32  # leelaz's OutputChunker::CHUNK_SIZE


def sgf_paths(inputs: Iterable[Path]) -> list[Path]:
    paths = []
    for item in inputs:
        paths += sorted(item.rglob("*.sgf")) if item.is_dir() else [item]
    return paths


def convert_to_dir(
    inputs: Iterable[Path],
    out: Path,
    prefix: str = "sgf",
    games_per_chunk: int = GAMES_PER_CHUNK,
    shards: bool = False,
) -> tuple[ConversionStats, list[Path]]:
    """Convert the games and write the chunks (or shards with ownership and score); returns the
    counts and the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    stats, written, pending = ConversionStats(), [], []

    def flush() -> None:
        if shards:
            path = out / f"{prefix}.{len(written)}.zfs"
            write_shard(path, _concat_shards(pending))
        else:
            path = out / f"{prefix}.{len(written)}.gz"
            write_chunk(path, Positions.concat(pending))
        written.append(path)
        pending.clear()

    for positions in convert_games(sgf_paths(inputs), stats, targets=shards):
        pending.append(positions)
        if len(pending) == games_per_chunk:
            flush()
    if pending:
        flush()
    return stats, written


def _concat_shards(parts: list[Shard]) -> Shard:
    fields = ("ownership", "score", *TEACHER_FIELDS)
    return Shard(
        Positions.concat([part.positions for part in parts]),
        **{name: np.concatenate([getattr(part, name) for part in parts]) for name in fields},
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zeroforge sgf2chunks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sgf", nargs="+", type=Path, help="SGF files or directories")
    parser.add_argument("--out", type=Path, required=True, help="directory for the chunks")
    parser.add_argument("--prefix", default="sgf", help="chunk names: PREFIX.N.gz")
    parser.add_argument("--games-per-chunk", type=int, default=GAMES_PER_CHUNK)
    parser.add_argument(
        "--shards",
        action="store_true",
        help="write shards PREFIX.N.zfs with ownership and score targets (games need TB/TW)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if report_missing("sgf2chunks", args.sgf):
        return 1
    if args.games_per_chunk < 1:
        print("sgf2chunks: --games-per-chunk must be >= 1", file=sys.stderr)
        return 1
    stats, written = convert_to_dir(
        args.sgf, args.out, args.prefix, args.games_per_chunk, args.shards
    )
    kind = "shards" if args.shards else "chunks"
    print(
        f"{stats.games} games, {stats.positions} positions -> {len(written)} {kind} in "
        f"{args.out}; skipped {stats.skipped_total} games"
    )
    for reason, count in sorted(stats.skipped.items()):
        print(f"  skipped {count}: {reason}")
    if stats.games == 0:
        wanted = " and TB/TW" if args.shards else ""
        print(f"sgf2chunks: no usable game (19x19 with a B+/W+ result{wanted})", file=sys.stderr)
        return 1
    return 0
