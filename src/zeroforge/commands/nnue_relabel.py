"""`zeroforge nnue relabel IN OUT --net NET.nnue`: a teacher's scores in place of the search's.

Every record of IN (.binpack, .bin or .plain) is written to OUT (format by extension) with its
score replaced by NET's evaluation of the position: Stockfish 15.1's exact integer forward pass
(analysis.nnue_eval.evaluate_features; internal units, side to move, the raw network output
before Stockfish's material scaling), which is what a student of the same architecture can
learn to reproduce. Moves, plies and results are kept. The features come from the compiled
decoder, read beside the validated records in the same order (both streams are counted and
must agree). A .binpack written from a .binpack keeps the source's chunks (the same records in
each), so a held-out share of the positions (`data.val_fraction` with one file, chosen by chunk
and position) is the same positions in both files. `--blend W` writes W * teacher + (1 - W) *
search score instead (the search score where it has one: a record without one, VALUE_NONE,
gets the teacher's alone), a nudged static evaluation. Use Stockfish's own net (`printf 'export_net /abs/sf.nnue\\nquit\\n' |
/usr/games/stockfish`) as the teacher for distillation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator

import numpy as np

from zeroforge.chess.records import SCORE_LIMIT, VALUE_NONE, ChessDataError
from zeroforge.data.chess_records import SUFFIXES, chess_format, iter_records, write_records
from zeroforge.formats import binpack
from zeroforge.formats.nnue import NnueFormatError, read_nnue

SCORE_CLIP = SCORE_LIMIT - 2  # keep teacher scores below VALUE_NONE (32002): 32000 = mate


def teacher_scores(net, path: str) -> Iterator[int]:
    """NET's evaluation of every record of `path`, in file order."""
    from zeroforge.analysis.nnue_eval import evaluate_features
    from zeroforge.data.chess_decoder import iter_decoded

    for _, records in iter_decoded(path):
        buckets = (records["pieces"].astype(np.int64) - 1) // 4
        values = evaluate_features(net, records["us"], records["them"], buckets)
        yield from np.clip(values, -SCORE_CLIP, SCORE_CLIP).tolist()


def chunk_ends(path: str) -> list[int]:
    """Cumulative record counts at the end of each piece (a .binpack's chunks) of `path`."""
    from zeroforge.data.chess_decoder import iter_decoded

    return np.cumsum([len(records) for _, records in iter_decoded(path)]).tolist()


def blended(teacher: int, search: int, blend: float) -> int:
    """`blend` of the teacher's score plus the rest of the search's, rounded to a unit."""
    if blend == 1.0 or search == VALUE_NONE:
        return int(teacher)
    return int(round(blend * teacher + (1.0 - blend) * search))


def relabel(net, source: str, output: str, blend: float = 1.0) -> dict:
    """Write `source`'s records with NET's scores (or the `blend` of NET's and the search's)
    to `output`; counts and score statistics."""
    changed = {"records": 0, "abs_diff_sum": 0}

    def records():
        scores = teacher_scores(net, source)
        for record in iter_records(source):
            score = next(scores, None)
            if score is None:
                raise ChessDataError(source, f"record {changed['records']}", "decoder ended early")
            score = blended(score, record.score, blend)
            changed["records"] += 1
            changed["abs_diff_sum"] += abs(score - record.score)
            yield dataclasses.replace(record, score=score)
        if next(scores, None) is not None:
            raise ChessDataError(source, "end", "decoder has more records than the reader")

    if chess_format(source) == chess_format(output) == binpack.SUFFIX:
        written = binpack.write_binpack(output, records(), chunk_ends=chunk_ends(source))
    else:
        written = write_records(output, records())
    return {
        "input": source,
        "output": output,
        "written": written,
        "mean_abs_change": changed["abs_diff_sum"] / max(written, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge nnue relabel",
        description="Replace the scores of Stockfish training data by a .nnue net's evaluation "
        "(a teacher for distillation).",
    )
    parser.add_argument("input", help=f"training data ({', '.join(SUFFIXES)})")
    parser.add_argument("output", help="where to write (format by extension)")
    parser.add_argument("--net", required=True, help="an SFNNv5 .nnue file (the teacher)")
    parser.add_argument(
        "--blend",
        type=float,
        default=1.0,
        metavar="W",
        help="write W * teacher + (1 - W) * search score (default 1: the teacher's alone)",
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    if not 0.0 <= args.blend <= 1.0:
        print(
            f"zeroforge nnue relabel: --blend must be in [0, 1], got {args.blend}", file=sys.stderr
        )
        return 2
    try:
        chess_format(args.input)
        chess_format(args.output)
        net = read_nnue(args.net)
    except (ValueError, OSError, NnueFormatError) as error:
        print(f"zeroforge nnue relabel: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        report = relabel(net, args.input, args.output, args.blend)
    except (ChessDataError, ValueError) as error:
        print(f"zeroforge nnue relabel: {error} (nothing written)", file=sys.stderr)
        return 1
    report["seconds"] = time.perf_counter() - start
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(
            f"wrote {report['written']:,} records to {args.output} with the scores of "
            f"{args.net} (mean |change| {report['mean_abs_change']:.0f} internal units) in "
            f"{report['seconds']:.1f} s"
        )
    return 0
