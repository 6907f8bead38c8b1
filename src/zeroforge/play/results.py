"""The results file of a match (`results.jsonl`): one JSON object per finished game, one
line each, appended as games finish.

Why append rather than rewrite: each record goes out as ONE `os.write` of the complete line
(newline included) on a descriptor opened with O_APPEND, followed by `fsync`. A game counts as
recorded once its whole line is there. A `kill -9` cannot split a single small write to a
local file, and a power loss can at worst leave a torn last line (no newline, or garbage):
`read_results` ignores such a line and `ResultsLog` cuts it off before appending, so the game it
described is simply played again. Rewriting the whole file through temp-and-rename would be
just as safe but costs O(games) per game; appending costs one line. Only the match's main thread
writes, and an exclusive `flock` keeps a second match process off the same file.

A game can have several records: a game that ended in an error is played again by a rerun (as
self-play replays a failed game) and its new record appended; the error record stays as history,
and the newest record of each game id is the one that counts (`latest_records`).

A line that is not valid JSON anywhere but at the end is real damage: an error naming the file
and line, never silently skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path


class ResultsError(ValueError):
    pass


def _parse(path: Path, data: bytes) -> tuple[list[dict], int]:
    """Records and the byte length of the intact prefix (everything before a torn tail)."""
    records, offset = [], 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        last = number == len(lines)
        if last:  # text after the final newline: a torn write
            break
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("game"), int):
                raise ValueError("not an object with an integer 'game'")
        except ValueError as err:
            if number == len(lines) - 1 and not any(lines[number:]):
                break  # the last complete line is garbage: torn as well
            raise ResultsError(f"{path}: line {number} is not a game record: {err}") from None
        records.append(record)
        offset += len(line) + 1
    return records, offset


def read_results(path: str | Path) -> list[dict]:
    """The game records of a results file (missing file: none); a torn last line is ignored."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return _parse(path, data)[0]


def latest_records(records: list[dict]) -> list[dict]:
    """The newest record of each game id, in the order the games were first recorded."""
    latest: dict[int, dict] = {}
    for record in records:
        latest[record["game"]] = record  # (a dict keeps the position of the first insertion)
    return list(latest.values())


class ResultsLog:
    """The appending side: holds the file locked, repairs a torn tail, appends records."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise ResultsError(
                f"{self.path}: another process (match or generator) is writing this file"
            ) from None
        with open(self.path, "rb") as handle:
            data = handle.read()
        self.records, intact = _parse(self.path, data)
        if intact < len(data):
            os.ftruncate(self.fd, intact)
            os.fsync(self.fd)

    def current(self) -> list[dict]:
        """`latest_records` of everything logged: one record per game."""
        return latest_records(self.records)

    def append(self, record: dict) -> None:
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        written = os.write(self.fd, line)
        if written != len(line):
            raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
        os.fsync(self.fd)
        self.records.append(record)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1

    def __enter__(self) -> ResultsLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
