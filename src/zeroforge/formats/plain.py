"""Stockfish's `.plain` training data (text): read and write.

One record per position, six lines, as Stockfish's tools and nnue-pytorch write them:

    fen <FEN>              the position (six fields)
    move <UCI>             the move, castling as king to g/c (e1g1)
    score <int>            search score, side to move, Stockfish units (32002 = VALUE_NONE)
    ply <int>              half-moves since the game's start
    result <1|0|-1>        game result, side to move
    e                      end of record

The reader accepts the five keyed lines in any order (each exactly once) and blank lines;
every record is validated (formats share chess.records.check_record). Errors name the file
and the line; with skip_bad a bad record is counted and reading goes on after its `e` line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from zeroforge.atomic import atomic_open
from zeroforge.chess.records import ChessDataError, ReadStats, TrainingRecord, check_record

SUFFIX = ".plain"
END = "e"
KEYS = ("fen", "move", "score", "ply", "result")
INT_KEYS = ("score", "ply", "result")


def _parse(fields: dict[str, str]) -> TrainingRecord:
    missing = [k for k in KEYS if k not in fields]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    numbers = {}
    for key in INT_KEYS:
        try:
            numbers[key] = int(fields[key])
        except ValueError:
            raise ValueError(f"{key} {fields[key]!r} is not an integer") from None
    record = TrainingRecord(fields["fen"], fields["move"], **numbers)
    check_record(record)
    return record


def read_plain(
    path: str | os.PathLike, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[TrainingRecord]:
    """Stream the records of a .plain file."""
    stats = stats if stats is not None else ReadStats()
    fields: dict[str, str] = {}
    problem, start = None, 0
    try:
        handle = open(path, "rb")  # lines decoded one by one: an error names its own line
    except OSError as error:
        raise ChessDataError(path, "line 0", f"cannot read file ({error.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as error:
                line = raw.decode("utf-8", errors="replace").strip()
                if problem is None:
                    problem = f"line {number}: not UTF-8 text (byte {error.start + 1} of the line)"
            if not line:
                continue
            if start == 0:  # the record's first line
                start = number
            if line == END:
                try:
                    if problem is not None:
                        raise ValueError(problem)
                    record = _parse(fields)
                except ValueError as error:
                    where = f"record at line {start}"
                    stats.bad(ChessDataError(path, where, str(error)), skip_bad)
                else:
                    stats.records += 1
                    yield record
                fields, problem, start = {}, None, 0
                continue
            key, _, value = line.partition(" ")
            if problem is not None:
                continue
            if key not in KEYS:
                problem = f"line {number}: unknown line {line[:40]!r}"
            elif key in fields:
                problem = f"line {number}: {key} given twice"
            else:
                fields[key] = value.strip()
    if fields or problem is not None:
        error = ChessDataError(path, f"record at line {start}", "cut short (no `e` line)")
        stats.bad(error, skip_bad)


def encode_record(record: TrainingRecord) -> str:
    return (
        f"fen {record.fen}\nmove {record.move}\nscore {record.score}\n"
        f"ply {record.ply}\nresult {record.result}\n{END}\n"
    )


def write_plain(path: str | os.PathLike, records: Iterable[TrainingRecord]) -> int:
    """Write records (each validated) atomically; returns how many were written."""
    count = 0
    with atomic_open(path) as handle:
        for count, record in enumerate(records, 1):
            try:
                check_record(record)
            except ValueError as error:
                raise ValueError(f"record {count - 1}: {error}") from None
            handle.write(encode_record(record).encode("utf-8"))
    return count
