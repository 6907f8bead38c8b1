"""Chess training records from Stockfish's data files, told apart by extension: one streaming
API over formats.binpack, formats.sfbin and formats.plain (readers and writers).

    for record in iter_records("games.binpack", skip_bad=True, stats=stats): ...
    write_records("games.plain", records)   # -> count

`stats` (chess.records.ReadStats) counts records yielded and bad records skipped.
ChessSummary is what `zeroforge data inspect` reports about such files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

import chess
import numpy as np

from zeroforge.chess.records import VALUE_NONE, ChessDataError, ReadStats, TrainingRecord
from zeroforge.formats import binpack, plain, sfbin

Reader = Callable[..., Iterator[TrainingRecord]]
Writer = Callable[[str | os.PathLike, Iterable[TrainingRecord]], int]

FORMATS: dict[str, tuple[Reader, Writer]] = {
    binpack.SUFFIX: (binpack.read_binpack, binpack.write_binpack),
    sfbin.SUFFIX: (sfbin.read_bin, sfbin.write_bin),
    plain.SUFFIX: (plain.read_plain, plain.write_plain),
}
SUFFIXES = tuple(FORMATS)


def chess_format(path: str | os.PathLike) -> str:
    """The format suffix of a path (".binpack", ".bin", ".plain"); ValueError otherwise."""
    name = os.fspath(path)
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"{name}: not a Stockfish training data file ({', '.join(SUFFIXES)})")


def is_chess_data(path: str | os.PathLike) -> bool:
    return os.fspath(path).endswith(SUFFIXES)


def iter_records(
    path: str | os.PathLike, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[TrainingRecord]:
    """Stream the validated records of one file (ChessDataError on bad data unless
    skip_bad, which counts bad records in `stats` instead). A file without a single record
    (empty) is bad data too."""
    read, _ = FORMATS[chess_format(path)]
    return _not_empty(read, path, skip_bad, stats if stats is not None else ReadStats())


def _not_empty(
    read: Reader, path: str | os.PathLike, skip_bad: bool, stats: ReadStats
) -> Iterator[TrainingRecord]:
    before = (stats.records, stats.bad_records)
    yield from read(path, skip_bad=skip_bad, stats=stats)
    if (stats.records, stats.bad_records) == before:
        stats.bad(ChessDataError(path, "record 0", "no records (empty file)"), skip_bad)


def iter_files(
    paths: Iterable[str | os.PathLike], skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[TrainingRecord]:
    """Records of several files in turn, counted together in `stats`."""
    for path in paths:
        yield from iter_records(path, skip_bad, stats)


def write_records(path: str | os.PathLike, records: Iterable[TrainingRecord]) -> int:
    """Write records in the format of `path`'s extension, atomically; returns the count."""
    _, write = FORMATS[chess_format(path)]
    return write(path, records)


SCORE_BIN_EDGES = (-3000, -1000, -300, -100, 0, 100, 300, 1000, 3000)  # Stockfish units
MAX_REPORTED_ERRORS = 5


@dataclass
class ChessSummary:
    """What `zeroforge data inspect` reports about Stockfish training data."""

    files: int = 0
    unreadable_files: int = 0
    positions: int = 0
    bad_records: int = 0
    errors: list[str] = field(default_factory=list)
    white_to_move: int = 0
    wins: int = 0  # results, side to move
    draws: int = 0
    losses: int = 0
    value_none: int = 0  # records without a score (VALUE_NONE)
    in_check: int = 0  # side to move in check
    captures: int = 0  # the record's move captures
    skipped_by_nnue_pytorch: int = 0  # in check, a capture or VALUE_NONE: its loader skips them
    scores: list[int] = field(default_factory=list, repr=False)  # those with one
    plies: list[int] = field(default_factory=list, repr=False)

    def add(self, record: TrainingRecord) -> None:
        board = chess.Board(record.fen)
        check, capture = board.is_check(), board.is_capture(chess.Move.from_uci(record.move))
        self.in_check += check
        self.captures += capture
        self.skipped_by_nnue_pytorch += check or capture or record.score == VALUE_NONE
        self.positions += 1
        self.white_to_move += record.fen.split(" ", 2)[1] == "w"
        self.wins += record.result == 1
        self.draws += record.result == 0
        self.losses += record.result == -1
        if record.score == VALUE_NONE:
            self.value_none += 1
        else:
            self.scores.append(record.score)
        self.plies.append(record.ply)

    def add_file(self, path: str, skip_bad: bool = True) -> None:
        self.files += 1
        stats = ReadStats()
        try:
            for record in iter_records(path, skip_bad=skip_bad, stats=stats):
                self.add(record)
        except ChessDataError as error:  # only without skip_bad, or a file that cannot open
            stats.bad_records += 1
            stats.errors.append(str(error))
        self.bad_records += stats.bad_records
        self.errors += stats.errors[: max(MAX_REPORTED_ERRORS - len(self.errors), 0)]
        if stats.errors and not stats.records:
            self.unreadable_files += 1

    def report(self) -> dict:
        n = max(self.positions, 1)
        scores = np.asarray(self.scores, dtype=np.int64)
        plies = np.asarray(self.plies, dtype=np.int64)
        edges = ("-inf",) + SCORE_BIN_EDGES + ("inf",)
        counts = np.bincount(
            np.searchsorted(SCORE_BIN_EDGES, scores, side="right"),
            minlength=len(SCORE_BIN_EDGES) + 1,
        )
        out = {k: v for k, v in asdict(self).items() if k not in ("scores", "plies")}
        out.update(
            kind="stockfish",
            white_to_move_fraction=self.white_to_move / n,
            win_fraction=self.wins / n,
            draw_fraction=self.draws / n,
            loss_fraction=self.losses / n,
            value_none_fraction=self.value_none / n,
            in_check_fraction=self.in_check / n,
            capture_fraction=self.captures / n,
            skipped_by_nnue_pytorch_fraction=self.skipped_by_nnue_pytorch / n,
            score_min=int(scores.min()) if len(scores) else None,
            score_max=int(scores.max()) if len(scores) else None,
            score_mean=float(scores.mean()) if len(scores) else None,
            score_abs_percentiles={
                str(q): float(np.percentile(np.abs(scores), q)) if len(scores) else None
                for q in (50, 90, 99)
            },
            score_histogram=[
                {"from": lo, "to": hi, "count": int(c)}
                for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
            ],
            ply_min=int(plies.min()) if len(plies) else None,
            ply_max=int(plies.max()) if len(plies) else None,
            ply_mean=float(plies.mean()) if len(plies) else None,
        )
        return out
