"""Chess training records from Stockfish's data files, told apart by extension: one streaming
API over formats.binpack, formats.sfbin and formats.plain (readers and writers).

    for record in iter_records("games.binpack", skip_bad=True, stats=stats): ...
    write_records("games.plain", records)   # -> count

`stats` (chess.records.ReadStats) counts records yielded and bad records skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from zeroforge.chess.records import ReadStats, TrainingRecord
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
    skip_bad, which counts bad records in `stats` instead)."""
    read, _ = FORMATS[chess_format(path)]
    return read(path, skip_bad=skip_bad, stats=stats)


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
