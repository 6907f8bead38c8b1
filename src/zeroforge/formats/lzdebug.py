"""Leela Zero's `dump_debug` file: the search values of a self-play game, both directions.

Layout (gzip text, written by leelaz as `FILE.0.gz`, Training.cpp):

    2                                   <- DEBUG_VERSION
    <resignpct> <weights file>
    <net_winrate> <root_uct_winrate> <child_uct_winrate> <bestmove_visits>   one line per record

One line per training record of the matching `dump_training` chunk, in the same order. Winrates
are in [0, 1] for the side to move: net_winrate is the raw network value, root_uct_winrate the
search value q of the root. Training targets use them as 2w - 1 in [-1, 1].

Self-play writes the chunk as `DIR/chunks/NAME.gz` and this file as `DIR/debug/NAME.debug`
(`debug_path_for`): gzip, but not named `.gz`, so a scan of DIR for chunks never picks it up.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_open

DEBUG_VERSION = "2"  # first line of the file (Training::dump_debug)
DEBUG_DIR, CHUNK_DIR = "debug", "chunks"
DEBUG_SUFFIX = ".debug"  # gzip text, named so a scan for chunks (*.gz) skips it


class DebugFileError(ValueError):
    """A dump_debug file that cannot be used; the message names the file and line."""


@dataclass
class SearchValues:
    net_winrate: np.ndarray  # float32 [N], raw network value, side to move, [0, 1]
    root_winrate: np.ndarray  # float32 [N], root search value q, side to move, [0, 1]
    child_winrate: np.ndarray  # float32 [N], value of the chosen move
    bestmove_visits: np.ndarray  # int64 [N]
    resign_pct: float = -1.0
    weights: str = ""

    def __len__(self) -> int:
        return len(self.root_winrate)

    @property
    def q(self) -> np.ndarray:
        """Search value in [-1, 1] for the side to move (2w - 1)."""
        return 2.0 * self.root_winrate - 1.0

    @property
    def net_value(self) -> np.ndarray:
        """Raw network value in [-1, 1] for the side to move."""
        return 2.0 * self.net_winrate - 1.0


def read_debug(path: str | Path) -> SearchValues:
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DebugFileError(f"{path}: not a readable dump_debug file: {exc}") from None
    if len(lines) < 2 or lines[0].strip() != DEBUG_VERSION:
        raise DebugFileError(f"{path}: line 1 must be the version {DEBUG_VERSION!r}")
    resign_text, _, weights = lines[1].partition(" ")
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        try:
            if len(fields) != 4:
                raise ValueError(f"{len(fields)} fields")
            rows.append([float(f) for f in fields])
        except ValueError as exc:
            raise DebugFileError(f"{path}: line {number}: expected 4 numbers ({exc})") from None
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    values = SearchValues(
        net_winrate=table[:, 0].astype(np.float32),
        root_winrate=table[:, 1].astype(np.float32),
        child_winrate=table[:, 2].astype(np.float32),
        bestmove_visits=table[:, 3].astype(np.int64),
        resign_pct=_float(path, resign_text),
        weights=weights,
    )
    bad = ~((values.root_winrate >= 0) & (values.root_winrate <= 1))
    bad |= ~((values.net_winrate >= 0) & (values.net_winrate <= 1))
    if bad.any():
        raise DebugFileError(f"{path}: line {int(np.argmax(bad)) + 3}: winrate outside [0, 1]")
    return values


def _float(path: Path, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DebugFileError(f"{path}: line 2: resign percentage {text!r}") from None


def write_debug(path: str | Path, values: SearchValues) -> None:
    """Write a dump_debug file (as leelaz would) atomically."""
    path = Path(path)
    lines = [DEBUG_VERSION, f"{values.resign_pct:g} {values.weights}"]
    for row in zip(
        values.net_winrate,
        values.root_winrate,
        values.child_winrate,
        values.bestmove_visits,
        strict=True,
    ):
        lines.append(f"{row[0]:g} {row[1]:g} {row[2]:g} {int(row[3])}")
    with atomic_open(path) as raw, gzip.GzipFile(fileobj=raw, mode="wb") as handle:
        handle.write(("\n".join(lines) + "\n").encode("ascii"))


def debug_path_for(chunk: str | Path) -> Path:
    """Where self-play puts the dump_debug file of `DIR/chunks/NAME.gz`."""
    chunk = Path(chunk)
    stem = chunk.name[: -len(".gz")] if chunk.name.endswith(".gz") else chunk.name
    return chunk.parent.parent / DEBUG_DIR / f"{stem}{DEBUG_SUFFIX}"
