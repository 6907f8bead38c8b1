"""`zeroforge data SUBCOMMAND`: look at training data.

    zeroforge data inspect PATH... [--json] [--skip-bad]
    zeroforge data pack IN... OUT_DIR     (chunks + their q -> binary shards: commands.pack)

`inspect` reads every file (files, directories or globs), validates every record and reports
files, positions, bad records (the first few errors in words). For Leela Zero data:
side-to-move and winner balance, policy kind (one-hot as in supervised data, or soft visit
fractions) and the mean policy entropy. For Stockfish data (.binpack, .bin, .plain): result
shares, the score distribution, VALUE_NONE entries and plies. Exit status 1 when a file is
unreadable or holds a bad record, unless --skip-bad.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from zeroforge.commands import dispatch
from zeroforge.data.chess_records import SUFFIXES as CHESS_SUFFIXES
from zeroforge.data.chess_records import ChessSummary, is_chess_data
from zeroforge.data.files import Records, data_suffixes, expand_paths, file_kind
from zeroforge.formats.chunks import ChunkError
from zeroforge.formats.shards import ShardError

MAX_REPORTED_ERRORS = 5


@dataclass
class DataSummary:
    files: int = 0
    unreadable_files: int = 0
    positions: int = 0
    bad_records: int = 0
    errors: list[str] = field(default_factory=list)
    black_to_move: int = 0
    side_to_move_won: int = 0
    black_won: int = 0
    one_hot_policies: int = 0
    entropy_sum: float = 0.0  # nats, summed over positions
    with_q: int = 0

    def add(self, records: Records) -> None:
        side, winner, policy = records["side_to_move"], records["winner"], records["policy"]
        black = side == 0
        self.positions += len(winner)
        self.black_to_move += int(black.sum())
        self.side_to_move_won += int((winner == 1).sum())
        self.black_won += int(((winner == 1) == black).sum())
        self.one_hot_policies += int(((policy > 0).sum(axis=1) == 1).sum())
        p = policy.astype(np.float64)
        self.entropy_sum += float(-(p * np.log(np.where(p > 0, p, 1))).sum())
        if "q" in records:
            self.with_q += len(winner)

    def note_errors(self, messages: list[str]) -> None:
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors += messages[: max(room, 0)]

    def report(self) -> dict:
        n = max(self.positions, 1)
        kind = "none"
        if self.positions:
            kind = {self.positions: "one-hot", 0: "soft"}.get(self.one_hot_policies, "mixed")
        out = asdict(self)
        out.update(
            black_to_move_fraction=self.black_to_move / n,
            side_to_move_won_fraction=self.side_to_move_won / n,
            black_won_fraction=self.black_won / n,
            policy_kind=kind,
            one_hot_fraction=self.one_hot_policies / n,
            mean_policy_entropy_nats=self.entropy_sum / n,
        )
        del out["entropy_sum"]
        return out


def summarise(files: list[str]) -> DataSummary:
    summary = DataSummary(files=len(files))
    for path in files:
        try:
            records, bad, errors = file_kind(path).read(path, "skip")
        except (ChunkError, ShardError) as error:  # what skipping cannot help: unreadable file
            summary.unreadable_files += 1
            summary.note_errors([str(error)])
            continue
        summary.note_errors(errors)
        summary.bad_records += bad
        if errors and not len(records["winner"]):
            summary.unreadable_files += 1  # nothing usable in it (empty, cut short, garbage)
            continue
        summary.add(records)
    return summary


def _percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def _counts(report: dict) -> list[tuple[str, str]]:
    return [
        ("files", f"{report['files']} ({report['unreadable_files']} unreadable)"),
        ("positions", f"{report['positions']:,}"),
        ("bad records", f"{report['bad_records']:,}"),
    ]


def _print_lines(lines: list[tuple[str, str]]) -> None:
    for name, value in lines:
        print(f"{name:<16}{value}")


def _print_text(report: dict) -> None:
    if not report["positions"]:  # no shares of nothing
        return _print_lines(_counts(report))
    lines = _counts(report) + [
        (
            "side to move",
            f"black {_percent(report['black_to_move_fraction'])}, "
            f"white {_percent(1 - report['black_to_move_fraction'])}",
        ),
        (
            "winner",
            f"side to move won {_percent(report['side_to_move_won_fraction'])}; "
            f"black won {_percent(report['black_won_fraction'])} of positions",
        ),
        ("policy", f"{report['policy_kind']} (one-hot {_percent(report['one_hot_fraction'])})"),
        ("policy entropy", f"{report['mean_policy_entropy_nats']:.3f} nats (mean)"),
    ]
    if report["with_q"]:
        lines.append(("with q", f"{report['with_q']:,}"))
    _print_lines(lines)


def _print_chess(report: dict) -> None:
    if not report["positions"]:
        return _print_lines(_counts(report))
    bins = ", ".join(
        f"{b['from']}..{b['to']}: {b['count']:,}" for b in report["score_histogram"] if b["count"]
    )
    lines = _counts(report) + [
        (
            "side to move",
            f"white {_percent(report['white_to_move_fraction'])}, "
            f"black {_percent(1 - report['white_to_move_fraction'])}",
        ),
        (
            "results",
            f"win {_percent(report['win_fraction'])}, draw {_percent(report['draw_fraction'])}, "
            f"loss {_percent(report['loss_fraction'])} (side to move)",
        ),
        (
            "no score",
            f"{report['value_none']:,} VALUE_NONE ({_percent(report['value_none_fraction'])})",
        ),
        (
            "filters",
            f"in check {_percent(report['in_check_fraction'])}, capture played "
            f"{_percent(report['capture_fraction'])}; nnue-pytorch skips "
            f"{_percent(report['skipped_by_nnue_pytorch_fraction'])} (either, or no score)",
        ),
    ]
    if report["score_min"] is not None:
        p = report["score_abs_percentiles"]
        lines += [
            (
                "scores",
                f"{report['score_min']}..{report['score_max']}, mean {report['score_mean']:.1f}; "
                f"|score| median {p['50']:.0f}, 90 % {p['90']:.0f}, 99 % {p['99']:.0f}",
            ),
            ("score bins", bins),
        ]
    if report["ply_min"] is not None:
        lines.append(
            ("plies", f"{report['ply_min']}..{report['ply_max']}, mean {report['ply_mean']:.1f}")
        )
    _print_lines(lines)


def inspect(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge data inspect", description="Validate and summarise training data."
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or globs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--skip-bad", action="store_true", help="exit 0 despite bad records or unreadable files"
    )
    args = parser.parse_args(argv)
    try:
        files = expand_paths(args.paths, data_suffixes() + CHESS_SUFFIXES)
    except FileNotFoundError as error:
        print(f"zeroforge data inspect: {error}", file=sys.stderr)
        return 1
    chess_files = [f for f in files if is_chess_data(f)]
    go_files = [f for f in files if not is_chess_data(f)]
    reports = {}
    if go_files:
        reports["go"] = summarise(go_files).report()
    if chess_files:
        summary = ChessSummary()
        for path in chess_files:
            summary.add_file(path, skip_bad=True)
        reports["stockfish"] = summary.report()
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), indent=1))
    else:
        titles = {"go": "Leela Zero training chunks", "stockfish": "Stockfish training data"}
        for kind, report in reports.items():
            if len(reports) > 1:
                print(f"-- {titles[kind]} --")
            (_print_text if kind == "go" else _print_chess)(report)
    for report in reports.values():  # the report to stdout, what went wrong to stderr
        for message in report["errors"]:
            print(f"zeroforge data inspect: error: {message}", file=sys.stderr)
    damaged = any(r["bad_records"] or r["unreadable_files"] for r in reports.values())
    if damaged and not args.skip_bad:
        print("zeroforge data inspect: bad data (use --skip-bad to accept it)", file=sys.stderr)
        return 1
    return 1 if not sum(r["positions"] for r in reports.values()) else 0


def pack(argv: list[str]) -> int:
    from zeroforge.commands.pack import main as pack_main

    return pack_main(argv)


SUBCOMMANDS = {
    "inspect": (inspect, "validate and summarise training data"),
    "pack": (pack, "convert chunks (+ their q) into binary shards"),
}


def main(argv: list[str]) -> int:
    return dispatch("zeroforge data", "Training data tools.", SUBCOMMANDS, argv)
