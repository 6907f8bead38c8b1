"""Atomic file writes: the one home of "write to a temporary file, then rename".

A reader (a trainer polling a directory, a rerun after `kill -9`) never sees a half-written
file: data goes to a hidden temporary file in the target's directory (same filesystem, so
`os.replace` is atomic), is flushed and fsynced, then renamed over the target. On any error
the temporary file is removed and the target is untouched. Files get the usual umask-based
permissions (not mkstemp's 0600), since data and SGFs are meant to be shared.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """`with atomic_open(p) as f: f.write(...)` -> `p` appears whole, or not at all."""
    path = Path(path)
    tmp = _temp_beside(path)
    try:
        with open(tmp, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    with open(source, "rb") as src, atomic_open(target) as dst:
        shutil.copyfileobj(src, dst)
