"""Stockfish's `.binpack` training data (nnue-pytorch's compressed chains): the file and its
chunks, read and write. A chunk's payload is chains, whose bits are formats/binpack_codec.py.

Layout (nnue-pytorch lib/nnue_training_data_formats.h, namespace binpack). A file is a
sequence of chunks, each self-contained (files can be concatenated):

    chunk     "BINP" | uint32 little-endian payload size (< 100 MiB) | payload
    payload   chains, back to back; a chunk never splits a chain. The writer starts a new
              chunk before a chain once the current one holds >= 1 MiB.

`chunks` is the one walker of a file's chunks (the Python reader here and the compiled decoder,
data/chess_decoder.py, both use it). Errors name the file, the chunk and the byte offset. With
skip_bad, a bad chain costs the rest of its chunk (the bit stream cannot be resynchronised) and
reading goes on with the next chunk; a bad chunk header, at the next "BINP".
"""

from __future__ import annotations

import io
import mmap
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import chess

from zeroforge.atomic import atomic_open
from zeroforge.chess.records import ChessDataError, ReadStats, TrainingRecord, check_record
from zeroforge.formats.binpack_codec import (
    MAX_CHAIN_PLIES,
    Chain,
    decode_chain,
    encode_ply,
    same_position,
)

SUFFIX = ".binpack"
MAGIC = b"BINP"
HEADER = struct.Struct("<4sI")
SUGGESTED_CHUNK_BYTES = 1 << 20  # a new chunk starts once this much is written
MAX_CHUNK_BYTES = 100 << 20  # nnue-pytorch rejects larger chunks as malformed


def map_file(path: str | os.PathLike, where: str) -> mmap.mmap | bytes:
    """A file's bytes, memory-mapped (b"" when empty); ChessDataError at `where` if unreadable."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    except OSError as error:
        raise ChessDataError(path, where, f"cannot read file ({error.strerror})") from None


def chunks(path, data, stats: ReadStats, skip_bad: bool) -> Iterator[tuple[int, int, int]]:
    """(index, payload start, payload end) of each chunk of `data` (the file's bytes); a bad
    header ends the file or, with skip_bad, reading resumes at the next chunk magic."""
    index, offset, size = 0, 0, len(data)
    while offset < size:
        if size - offset >= HEADER.size:  # the common case first: a whole, good chunk
            magic, length = HEADER.unpack_from(data, offset)
            end = offset + HEADER.size + length
            if magic == MAGIC and length <= MAX_CHUNK_BYTES and end <= size:
                yield index, offset + HEADER.size, end
                offset, index = end, index + 1
                continue
        magic, length = HEADER.unpack(bytes(data[offset : offset + HEADER.size]).ljust(8, b"\0"))
        if size - offset < HEADER.size:
            problem = f"cut short: {size - offset} bytes of a chunk header"
        elif magic != MAGIC:
            problem = f"no chunk header (found {magic!r}, expected {MAGIC!r})"
        elif length > MAX_CHUNK_BYTES:
            problem = f"chunk of {length} bytes > {MAX_CHUNK_BYTES}: not a binpack?"
        else:
            problem = f"cut short: {size - offset - HEADER.size} of {length} payload bytes"
        stats.bad(ChessDataError(path, f"chunk {index} (byte {offset})", problem), skip_bad)
        found = data.find(MAGIC, offset + 1)
        if found < 0:
            return
        offset, index = found, index + 1


class BinpackWriter:
    """Encode records into .binpack chunks, written to a binary handle as they fill.

    Consecutive records of one game (the next position is this one after its move, ply + 1,
    result negated) share a chain; anything else starts a new chain. `close()` flushes."""

    def __init__(
        self,
        handle: BinaryIO,
        chunk_bytes: int = SUGGESTED_CHUNK_BYTES,
        chunk_ends: Iterable[int] | None = None,
    ):
        # chunk_ends: record counts (cumulative, increasing) after which a chunk ends, e.g. a
        # source file's chunks; then only they end chunks (unless one outgrows MAX_CHUNK_BYTES / 2)
        self.ends = iter(chunk_ends) if chunk_ends is not None else None
        self.next_end = next(self.ends, None) if self.ends is not None else None
        if self.ends is not None:
            chunk_bytes = MAX_CHUNK_BYTES // 2
        self.handle, self.chunk_bytes = handle, chunk_bytes
        self.parts: list[bytes] = []
        self.size = 0
        self.chain: Chain | None = None
        self.after: chess.Board | None = None  # the last record's position after its move
        self.last: TrainingRecord | None = None
        self.records = 0

    def add(self, record: TrainingRecord) -> None:
        board, move = check_record(record)
        last = self.last
        if (
            self.chain is not None
            and self.chain.plies < MAX_CHAIN_PLIES
            and record.ply == last.ply + 1
            and record.result == -last.result
            and same_position(self.after, board)
        ):
            self.chain.add(encode_ply(board, move), record.score)
        else:
            self._end_chain()
            if self.size >= self.chunk_bytes:
                self._flush()
            self.chain = Chain(record, board, move)
        board.push(move)
        self.after, self.last = board, record
        self.records += 1
        if self.next_end is not None and self.records >= self.next_end:
            self._end_chain()
            self._flush()
            self.next_end = next(self.ends, None)

    def _end_chain(self) -> None:
        if self.chain is not None:
            data = self.chain.bytes()
            self.parts.append(data)
            self.size += len(data)
            self.chain = None

    def _flush(self) -> None:
        if self.size:
            self.handle.write(HEADER.pack(MAGIC, self.size))
            self.handle.writelines(self.parts)
            self.parts, self.size = [], 0

    def close(self) -> None:
        self._end_chain()
        self._flush()


def encode_binpack(records: Iterable[TrainingRecord]) -> bytes:
    """The .binpack bytes of records (whole chunks: results can be concatenated)."""

    buffer = io.BytesIO()
    writer = BinpackWriter(buffer)
    for record in records:
        writer.add(record)
    writer.close()
    return buffer.getvalue()


def write_binpack(
    path: str | os.PathLike,
    records: Iterable[TrainingRecord],
    chunk_ends: Iterable[int] | None = None,
) -> int:
    """Write records (each validated) atomically; returns how many were written. With
    `chunk_ends` (cumulative record counts), chunks end exactly there (BinpackWriter)."""
    with atomic_open(path) as handle:
        writer = BinpackWriter(handle, chunk_ends=chunk_ends)
        for index, record in enumerate(records):
            try:
                writer.add(record)
            except ValueError as error:
                raise ValueError(f"record {index}: {error}") from None
        writer.close()
    return writer.records


def read_binpack(
    path: str | os.PathLike, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[TrainingRecord]:
    """Stream the records of a .binpack file."""
    stats = stats if stats is not None else ReadStats()
    data = map_file(path, "chunk 0 (byte 0)")
    try:
        for index, start, end in chunks(path, data, stats, skip_bad):
            payload = bytes(data[start:end])
            offset = 0
            while offset < len(payload):
                try:
                    for record, after in decode_chain(payload, offset):
                        if record is None:
                            offset = after
                        else:
                            stats.records += 1
                            yield record
                except ValueError as error:
                    where = f"chunk {index}, chain at byte {start + offset}"
                    stats.bad(ChessDataError(path, where, str(error)), skip_bad)
                    break
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
