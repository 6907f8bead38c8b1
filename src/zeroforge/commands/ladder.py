"""`zeroforge ladder NET|RUN... --out DIR [--levels 0,1] [--games 4]`: rate Go nets against
GNU Go levels, with a finite Elo (and 95 % interval) for every net, even one that never wins.

A rung is a GNU Go level (`1`) or a level giving handicap stones (`1h9`: level 1 giving the
net 9 stones, the net Black every game, komi 0.5), e.g. `--levels 0,1,1h9,1h5`; a net that
loses every even game still wins some with stones.

NET is a Leela Zero weights file (or a checkpoint); RUN a training run directory, whose exported
nets (`nets/step-*.txt.gz`, `nets/final.txt.gz`) are all rated, giving DIR/elo-vs-steps.png.
Nets play at `--visits` (1: the raw policy, fast) with resignation off. Each pairing is a
resumable match in DIR/pairs/; rerun the same command to finish or extend it. Results:
DIR/ladder.json, DIR/ladder.md. See `zeroforge.play.ladder` for the design.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroforge.commands import report_missing
from zeroforge.play.ladder import Ladder, net_players, parse_rungs, play, rate, write_results
from zeroforge.play.match import MatchError


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zeroforge ladder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("nets", nargs="+", type=Path, help="weights files or run directories")
    parser.add_argument("--out", type=Path, required=True, help="ladder directory")
    parser.add_argument(
        "--levels",
        default="0,1",
        help="rungs: GNU Go levels, LhN for level L giving N stones (0,1)",
    )
    parser.add_argument("--games", type=int, default=4, help="games per net and rung (4)")
    parser.add_argument("--rung-games", type=int, default=4, help="per pair of rungs (4)")
    parser.add_argument("--net-games", type=int, default=2, help="per pair of nets (2)")
    parser.add_argument("--visits", type=int, default=1, help="leelaz visits per move (1)")
    parser.add_argument("--workers", type=int, default=1, help="games at once (1)")
    parser.add_argument("--max-moves", type=int, default=600, help="move cap (600)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        levels, handicaps = parse_rungs(args.levels)
    except ValueError as exc:
        print(f"ladder: {exc}", file=sys.stderr)
        return 1
    if min(args.games, args.visits, args.workers, args.max_moves) < 1:
        print("ladder: --games, --visits, --workers, --max-moves must be >= 1", file=sys.stderr)
        return 1
    if report_missing("ladder", args.nets):
        return 1
    try:
        nets, steps = net_players(args.nets)
        ladder = Ladder(
            nets,
            levels,
            args.out,
            args.games,
            args.rung_games,
            args.net_games,
            args.visits,
            args.workers,
            args.max_moves,
            steps,
            handicaps,
        )
        records = play(ladder, lambda a, b, n: print(f"{a} vs {b}: {n} games", flush=True))
    except (ValueError, MatchError) as exc:
        print(f"ladder: {exc}", file=sys.stderr)
        return 1
    table = rate(ladder, records)
    written = write_results(ladder, table)
    if any(row["step"] is not None for row in table["players"].values()):
        from zeroforge.analysis.figures import ladder_png

        written.append(ladder_png(table, args.out / "elo-vs-steps.png"))
    for path in written:
        print(f"wrote {path}")
    print(Path(args.out / "ladder.md").read_text(), end="")
    return 0
