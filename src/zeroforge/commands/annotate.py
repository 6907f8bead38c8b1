"""`zeroforge annotate SGF... [--workers K]`: write each finished game's final area (TB/TW).

GNU Go (`--chinese-rules`, level 10: its full dead-stone reading) judges the last position of
every game: dead stones, territory, seki. The SGF gets TB/TW (each side's area) on its last
node, rewritten atomically; `sgf2chunks --shards` turns them into ownership and score targets.
Rerun to resume: files already annotated are skipped. Arguments may be files or directories
(searched for `*.sgf`). See `zeroforge.play.annotate`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroforge.play.engines import EngineNotFound, engine_path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge annotate", description=__doc__)
    parser.add_argument("sgf", nargs="+", type=Path, help="SGF files or directories")
    parser.add_argument("--workers", type=int, default=1, help="GNU Go processes at once")
    parser.add_argument("--level", type=int, default=10, help="GNU Go level (default 10)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    missing = [str(p) for p in args.sgf if not p.exists()]
    if missing:
        print(f"annotate: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 1
    if args.workers < 1:
        print("annotate: --workers must be >= 1", file=sys.stderr)
        return 1
    try:
        engine_path("gnugo")
    except EngineNotFound as exc:
        print(f"annotate: {exc}", file=sys.stderr)
        return 1
    from zeroforge.commands.sgf2chunks import sgf_paths
    from zeroforge.play.annotate import annotate_files

    stats = annotate_files(sgf_paths(args.sgf), args.workers, args.level)
    print(
        f"{len(stats.annotated)} files annotated ({stats.games} games) in {stats.seconds:,.1f} s "
        f"with {args.workers} workers; {len(stats.already_there)} were annotated before"
    )
    for message in stats.failed:
        print(f"annotate: {message}", file=sys.stderr)
    return 1 if stats.failed else 0
