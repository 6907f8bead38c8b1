"""Which files hold training data and how to read each kind (torch-free, so `data inspect`
stays quick).

A file kind is a name, the file-name suffixes a directory scan picks up, and a reader
`read(path, on_error) -> (Records, bad_records, error_messages)`. Leelaz text chunks are the
built-in kind; other formats (binary shards carrying q) add themselves with `register_reader`.

Records: a dict of equally long arrays, one row per position, the same for every kind:
    "planes"        uint8 [N,16,46]  stored planes, bit-packed (formats.chunks.pack_planes)
    "side_to_move"  uint8 [N]        0 black, 1 white
    "policy"        float32 [N,362]
    "winner"        int8 [N]         +1 if the side to move won
    "q"             float32 [N]      optional: search value for the side to move, in [-1, 1]
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeroforge.formats.chunks import read_chunk_packed
from zeroforge.formats.shards import SUFFIX as SHARD_SUFFIX
from zeroforge.formats.shards import read_shard_records

Records = dict[str, np.ndarray]
Reader = Callable[[str, str], tuple[Records, int, list[str]]]


@dataclass(frozen=True)
class FileKind:
    name: str
    suffixes: tuple[str, ...]  # file names a directory scan picks up
    read: Reader


def read_text_chunk(path: str, on_error: str = "skip") -> tuple[Records, int, list[str]]:
    (planes, side, policy, winner), bad, errors = read_chunk_packed(path, on_error)
    records = {"planes": planes, "side_to_move": side, "policy": policy, "winner": winner}
    return records, bad, errors


FILE_KINDS: list[FileKind] = [
    FileKind("shard", (SHARD_SUFFIX,), read_shard_records),  # formats.shards, with q
    FileKind("chunk", (".gz",), read_text_chunk),
]


def register_reader(name: str, suffixes: tuple[str, ...], read: Reader) -> None:
    """Add a file kind (e.g. binary shards); its suffixes take precedence over chunks'."""
    FILE_KINDS.insert(0, FileKind(name, suffixes, read))


def file_kind(path: str) -> FileKind:
    """The kind a file name belongs to; anything unrecognised is read as a text chunk."""
    for kind in FILE_KINDS:
        if path.endswith(kind.suffixes):
            return kind
    return FILE_KINDS[-1]


def data_suffixes() -> tuple[str, ...]:
    return tuple(s for kind in FILE_KINDS for s in kind.suffixes)


def _scan(directory: str, suffixes: tuple[str, ...]) -> list[str]:
    return [
        str(p)
        for p in Path(directory).rglob("*")
        if p.is_file() and p.name.endswith(suffixes) and not p.name.startswith(".")
    ]


def expand_paths(
    paths: str | os.PathLike | list, suffixes: tuple[str, ...] | None = None
) -> list[str]:
    """Files, directories (searched recursively for files ending in `suffixes`, by default the
    registered data kinds') or globs -> sorted unique files.

    Raises FileNotFoundError naming the first entry that matches no file.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    suffixes = suffixes or data_suffixes()
    found: set[str] = set()
    for entry in map(str, paths):
        if os.path.isdir(entry):
            matches = _scan(entry, suffixes)
            what = f"no data files ({', '.join(suffixes)}) under directory {entry!r}"
        elif os.path.isfile(entry):
            matches = [entry]
        else:
            matches = [m for m in glob.glob(entry, recursive=True) if os.path.isfile(m)]
            what = f"no file matches {entry!r}"
        if not matches:
            raise FileNotFoundError(what)
        found.update(os.path.normpath(m) for m in matches)
    return sorted(found)


def whole_files_to_hold_out(n_files: int, val_fraction: float) -> int:
    """How many whole files hold out `val_fraction` of `n_files`: 0 when that rounds to none
    or to all of them (too few files: hold out a share of each file's positions instead)."""
    n_val = int(round(n_files * val_fraction))
    return n_val if 0 < n_val < n_files else 0


def split_files(paths, val_fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """A held-out fraction of whole files: (train_files, val_files), both sorted."""
    files = expand_paths(paths)
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(len(files) * val_fraction))
    if val_fraction > 0:
        n_val = max(n_val, 1)
        if n_val >= len(files):
            raise ValueError(
                f"cannot hold out {val_fraction:.0%} of {len(files)} file(s) and "
                "keep some for training: give more files or val_fraction=0"
            )
    order = np.random.default_rng([seed, 0x5E1]).permutation(len(files))
    val = {files[i] for i in order[:n_val]}
    return [f for f in files if f not in val], sorted(val)
