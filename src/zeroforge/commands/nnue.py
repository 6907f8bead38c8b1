"""`zeroforge nnue SUBCOMMAND`: Stockfish NNUE training data and nets.

    zeroforge nnue convert IN... OUT [--skip-bad] [--json]
    zeroforge nnue gensfen OUT (--games N | --positions N) (--depth D | --nodes N) ...
    zeroforge nnue export NET OUT.nnue [--check]     (commands/nnue_net.py)
    zeroforge nnue check NET.nnue [--positions N | --data FILE]
    zeroforge nnue relabel IN OUT --net NET.nnue     (commands/nnue_relabel.py)

`convert` streams the records of every IN (.binpack, .bin or .plain, by extension; files,
directories or globs, in sorted order) into OUT (format by its extension), validating each
record, and reports the counts: records read per input, bad records skipped, records and
bytes written. OUT is written atomically: on a bad record (without --skip-bad) nothing is
written and the exit status is 1. Formats differ in what they keep: .binpack keeps en
passant squares only where a legal capture exists and derives the move number from the ply;
.bin needs the halfmove clock <= 127.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from zeroforge.atomic import check_folder
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.commands import dispatch
from zeroforge.data.chess_records import SUFFIXES, chess_format, iter_records, write_records
from zeroforge.data.files import expand_paths


class NothingToWrite(Exception):
    """Every input was bad or empty: `convert` writes no file rather than an empty one."""


def convert(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge nnue convert",
        description=f"Convert Stockfish training data between {', '.join(SUFFIXES)}.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="inputs (files, directories, globs), then the output file",
    )
    parser.add_argument("--skip-bad", action="store_true", help="drop bad records, count them")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    *inputs, output = args.paths
    try:
        if not inputs:
            raise ValueError("give at least one input and the output")
        chess_format(output)
        check_folder(output)
        inputs = expand_paths(inputs, SUFFIXES)
        for path in inputs:
            chess_format(path)
    except FileNotFoundError as error:
        print(f"zeroforge nnue convert: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"zeroforge nnue convert: {error}", file=sys.stderr)
        return 2
    per_input: list[dict] = []

    def records():
        for path in inputs:
            stats = ReadStats()
            per_input.append({"path": path, "stats": stats})
            yield from iter_records(path, skip_bad=args.skip_bad, stats=stats)
        if not any(i["stats"].records for i in per_input):  # (all bad, with --skip-bad)
            raise NothingToWrite(f"no good records in {', '.join(inputs)}")

    start = time.perf_counter()
    try:
        written = write_records(output, records())
    except (ChessDataError, NothingToWrite) as error:
        print(f"zeroforge nnue convert: {error} (nothing written)", file=sys.stderr)
        return 1
    except ValueError as error:  # a record the output format cannot hold
        print(f"zeroforge nnue convert: {output}: {error} (nothing written)", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    size = Path(output).stat().st_size
    report = {
        "inputs": [
            {
                "path": i["path"],
                "records": i["stats"].records,
                "bad_records": i["stats"].bad_records,
                "errors": i["stats"].errors,
            }
            for i in per_input
        ],
        "output": output,
        "written": written,
        "bad_records": sum(i["stats"].bad_records for i in per_input),
        "bytes": size,
        "bytes_per_position": size / written if written else None,
        "seconds": seconds,
        "positions_per_second": written / seconds if seconds > 0 else None,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for item in report["inputs"]:
            print(
                f"read  {item['records']:>12,} records from {item['path']} "
                f"({item['bad_records']:,} bad skipped)"
            )
            for message in item["errors"]:
                print(f"  skipped: {message}")
        per = f", {report['bytes_per_position']:.2f} bytes/position" if written else ""
        print(
            f"wrote {written:>12,} records to {output} ({size:,} bytes{per}) "
            f"in {seconds:.1f} s ({report['positions_per_second'] or 0:,.0f} positions/s)"
        )
    return 0


def gensfen(argv: list[str]) -> int:
    from zeroforge.commands.gensfen import main as gensfen_main  # its own module

    return gensfen_main(argv)


def export(argv: list[str]) -> int:
    from zeroforge.commands.nnue_net import export as export_main

    return export_main(argv)


def check(argv: list[str]) -> int:
    from zeroforge.commands.nnue_net import check as check_main

    return check_main(argv)


def relabel(argv: list[str]) -> int:
    from zeroforge.commands.nnue_relabel import main as relabel_main

    return relabel_main(argv)


SUBCOMMANDS = {
    "convert": (convert, "convert Stockfish training data (.binpack, .bin, .plain)"),
    "gensfen": (gensfen, "training data from Stockfish self-play (zeroforge.play.gensfen)"),
    "export": (export, "quantise an SFNNv5 checkpoint to the .nnue Stockfish 15.1 loads"),
    "check": (
        check,
        "Stockfish 15.1's eval of a .nnue file against zeroforge's, position by position",
    ),
    "relabel": (relabel, "replace training data scores by a .nnue net's evaluation (teacher)"),
}


def main(argv: list[str]) -> int:
    return dispatch("zeroforge nnue", "Stockfish NNUE tools.", SUBCOMMANDS, argv)
