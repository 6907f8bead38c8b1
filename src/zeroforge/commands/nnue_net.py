"""`zeroforge nnue export` and `zeroforge nnue check`: SFNNv5 nets for Stockfish 15.1.

    zeroforge nnue export NET OUT.nnue [--description TEXT] [--positions 200] [--check]
    zeroforge nnue check NET.nnue [--positions 200] [--data FILE] [--seed 9]

`export` quantises a trained net (one of our checkpoints, or a .nnue file: imported exactly) to
the file Stockfish 15.1 loads and prints what quantisation cost on `--positions` positions (the
float net against Stockfish's integer arithmetic, internal units); `--check` then runs `check`.
`check` has Stockfish evaluate the file (`setoption name EvalFile`, `eval`) on random positions
(or the first positions of a .binpack/.bin/.plain file) and compares every printed number with
zeroforge's integer forward pass; exit status 1 when any differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def positions(args: argparse.Namespace) -> list[str]:
    from zeroforge.analysis.nnue_check import random_positions

    if not args.data:
        return random_positions(args.positions, seed=args.seed)
    from zeroforge.data.chess_records import iter_records

    fens = []
    for record in iter_records(args.data):
        board = record.board()
        if not board.is_check():  # Stockfish's `eval` refuses positions in check
            fens.append(record.fen)
        if len(fens) == args.positions:
            break
    return fens


def run_check(path: Path, fens: list[str]) -> int:
    from zeroforge.analysis.nnue_check import check_net

    report = check_net(path, fens)
    print(
        f"{path}: stockfish eval == zeroforge on {report.equal}/{report.positions} positions "
        f"({report.white_to_move} white to move, layer stacks {sorted(report.buckets)})"
    )
    if report.unprinted:
        print(
            f"  {report.unprinted} position(s) compared on the value and bucket only: Stockfish "
            "cannot print their table (values of 1,000 pawns or more: random weights?)"
        )
    for line in report.mismatches:
        print(f"  differs: {line}")
    return 0 if report.ok else 1


def add_position_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--positions", type=int, default=200, help="positions (200)")
    parser.add_argument("--data", help="take them from this .binpack/.bin/.plain file")
    parser.add_argument("--seed", type=int, default=9, help="seed of the random positions (9)")


def export(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge nnue export", description="Quantise an SFNNv5 net to a .nnue file."
    )
    parser.add_argument("net", help="checkpoint (.ckpt) or .nnue file")
    parser.add_argument("out", help="the .nnue file to write")
    parser.add_argument("--description", help="the file's description text")
    parser.add_argument("--check", action="store_true", help="then run `zeroforge nnue check`")
    add_position_options(parser)
    args = parser.parse_args(argv)
    from zeroforge.analysis.nnue_check import float_gap
    from zeroforge.convert.nets import load_any_net
    from zeroforge.convert.nnue import export_nnue
    from zeroforge.nn.sfnnv5 import SFNNv5

    try:
        net = load_any_net(args.net)
    except (ValueError, FileNotFoundError) as error:
        print(f"zeroforge nnue export: {error}", file=sys.stderr)
        return 1
    if not isinstance(net, SFNNv5):
        print(f"zeroforge nnue export: {args.net}: not an SFNNv5 net", file=sys.stderr)
        return 1
    out = Path(args.out)
    export_nnue(net, out, args.description)
    fens = positions(args)
    gap = float_gap(net, out, fens)
    print(
        f"wrote {out} ({out.stat().st_size:,} bytes); float vs quantised on {len(fens)} "
        f"positions: mean |diff| {gap['mean_abs']:.1f}, max {gap['max_abs']:.0f} internal units "
        f"(mean |eval| {gap['mean_abs_eval']:.0f}, {100 * gap['relative']:.2f} %)"
    )
    return run_check(out, fens) if args.check else 0


def check(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge nnue check",
        description="Stockfish 15.1's eval of a .nnue file against zeroforge's integer pass.",
    )
    parser.add_argument("net", help=".nnue file (SFNNv5)")
    add_position_options(parser)
    args = parser.parse_args(argv)
    path = Path(args.net)
    if not path.is_file():
        print(f"zeroforge nnue check: {path}: no such file", file=sys.stderr)
        return 1
    try:
        return run_check(path, positions(args))
    except (ValueError, RuntimeError) as error:
        print(f"zeroforge nnue check: {error}", file=sys.stderr)
        return 1
