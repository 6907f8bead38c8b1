"""`zeroforge annotate SGF... [--workers K] [--teacher] [--level L]`: write each finished game's
final area (TB/TW), or with `--teacher` GNU Go's teacher targets before every move (ZM/ZS).

GNU Go (`--chinese-rules`, level 10: its full dead-stone reading) judges the last position of
every game: dead stones, territory, seki. The SGF gets TB/TW (each side's area) on its last
node, rewritten atomically; `sgf2chunks --shards` turns them into ownership and score targets.
With `--teacher` the game is replayed into GNU Go (at the level the game was played at, from
its comment, else 1; `--level` overrides) and each move's node gets GNU Go's candidate moves
with their values and its score estimate of the position before the move (docs/ENGINES.md);
`sgf2chunks --shards` turns them into a soft policy and a soft value target. The shards need
TB/TW too: run both. Rerun to resume: files already annotated are skipped. Arguments may be files or directories
(searched for `*.sgf`). See `zeroforge.play.annotate`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroforge.commands import report_missing
from zeroforge.play.engines import EngineNotFound, engine_path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zeroforge annotate", description=__doc__)
    parser.add_argument("sgf", nargs="+", type=Path, help="SGF files or directories")
    parser.add_argument("--workers", type=int, default=1, help="GNU Go processes at once")
    parser.add_argument(
        "--teacher", action="store_true", help="write teacher targets (ZM/ZS), not TB/TW"
    )
    parser.add_argument(
        "--level",
        type=int,
        default=None,
        help="GNU Go level (default 10 for TB/TW; with --teacher each game's own, else 1)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if report_missing("annotate", args.sgf):
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

    stats = annotate_files(sgf_paths(args.sgf), args.workers, args.level, args.teacher)
    print(
        f"{len(stats.annotated)} files annotated ({stats.games} games) in {stats.seconds:,.1f} s "
        f"with {args.workers} workers; {len(stats.already_there)} were annotated before"
    )
    for message in stats.failed:
        print(f"annotate: {message}", file=sys.stderr)
    return 1 if stats.failed else 0
