"""Atomic file writes, and the temporary files and folders a process owns: the one home of
"write to a temporary file, then rename" and of cleaning up after a killed process.

A reader (a trainer polling a directory, a rerun after `kill -9`) never sees a half-written
file: data goes to a hidden temporary file in the target's directory (same filesystem, so
`os.replace` is atomic), is flushed and fsynced, then renamed over the target. On any error
the temporary file is removed and the target is untouched. Files get the usual umask-based
permissions (not mkstemp's 0600), since data and SGFs are meant to be shared.

A process killed with SIGKILL cannot remove its temporary files, so their names carry the
owner (a tag of the host, the pid): `.NAME.HOST-PID-RANDOM.tmp` beside the target, and
`PREFIX-HOST-PID-RANDOM` folders (`temp_dir`). The next process that writes into the same
directory, or makes a temporary folder of the same prefix, removes those whose owner no longer
runs on this host; those of running processes (and of other hosts sharing the directory) stay.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"  # pids are per host
_OWNER = r"(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}"
_TEMP_FILE = re.compile(rf"^\..+\.{_OWNER}\.tmp$")
_swept: set[str] = set()  # directories already cleaned by this process


def _owner() -> str:
    return f"{HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{_owner()}.tmp")


def owner_gone(match: re.Match) -> bool:
    """True when the name's owner process ran on this host and runs no more."""
    if match["host"] != HOST:
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # another user's live process; a bad pid
        return False
    return False


def remove_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporary files `atomic_open` left in `directory` from killed processes."""
    removed = []
    with os.scandir(directory) as entries:
        for entry in entries:
            match = _TEMP_FILE.match(entry.name)
            if match and owner_gone(match) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed


def _sweep_once(directory: Path) -> None:
    key = os.path.abspath(directory)
    if key not in _swept:
        _swept.add(key)
        try:
            remove_stale_temp_files(directory)
        except OSError:  # (a directory we may write to but not list: nothing to clean)
            pass


def check_folder(path: str | os.PathLike) -> None:
    """FileNotFoundError naming `path` when the folder it would be written to does not exist."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{path}: no such folder {parent}")


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """`with atomic_open(p) as f: f.write(...)` -> `p` appears whole, or not at all."""
    path = Path(path)
    check_folder(path)
    _sweep_once(path.parent)
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


def temp_dir(prefix: str, base: str | os.PathLike | None = None) -> Path:
    """A fresh temporary folder `PREFIX-HOST-PID-RANDOM` in `base` (the system's temporary
    folder by default), after removing those of the same prefix whose process was killed.
    The caller removes it when done (shutil.rmtree)."""
    base = Path(base if base is not None else tempfile.gettempdir())
    stale = re.compile(rf"^{re.escape(prefix)}-{_OWNER}$")
    with os.scandir(base) as entries:
        for entry in entries:
            match = stale.match(entry.name)
            if match and owner_gone(match) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
    folder = base / f"{prefix}-{_owner()}"
    folder.mkdir(mode=0o700)  # (as mkdtemp)
    return folder
