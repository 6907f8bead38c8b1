"""Stockfish training data (.binpack, .bin, .plain) decoded by compiled C straight into NNUE
input records: HalfKAv2_hm feature indices of both perspectives plus the training targets.

The C extension `zeroforge.chess._decoder` (sources in chess/csrc/, built by setup.py at
install) holds a bitboard move generator (perft-exact), the .binpack chain decoder, the .bin
unpacker and the feature indexer (tables loaded from chess.features at import); it checks
every record by the same rules as the Python readers of `formats/` (a real position, a legal
move of the encoded kind, score, ply and result ranges; tests/data/test_decoders_agree.py).
The file layouts are documented in formats/binpack.py (whose `chunks` walks a .binpack's
chunks for both), formats/binpack_codec.py, formats/sfbin.py and formats/plain.py; this
module hands C the pieces and turns bad data into `ChessDataError`s naming the file, the
chunk or record and the byte offset.

A record (RECORD_DTYPE, one row of a numpy structured array, 144 bytes):
    us, them   int16 [32]  active features of the side to move / the other side, ascending
                           square order of the pieces, -1 after the last (chess.features)
    score      int16       search score, side to move (32002 = VALUE_NONE)
    ply        uint16
    move       uint16      from | to << 6 | promotion << 12 (1 knight .. 4 queen; castling as
                           the king's move to g/c)
    result     int8        1 / 0 / -1 for the side to move
    side       uint8       0 white, 1 black to move
    pieces     uint8       pieces on the board (layer stack = (pieces - 1) // 4)
    flags      uint8       FLAG_IN_CHECK, FLAG_CAPTURE (the move takes a piece on its
                           destination; en passant is not counted, as in nnue-pytorch)

Decoders yield `(piece, records)`: a piece is a unit that can be skipped undecoded (a .binpack
chunk, a block of .bin records, a whole .plain file), so DataLoader workers can share a file;
`select(piece) -> bool` picks the pieces to decode.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator

import numpy as np

from zeroforge.chess.features import feature_tables
from zeroforge.chess.records import ChessDataError, ReadStats
from zeroforge.formats.binpack import SUFFIX as BINPACK_SUFFIX
from zeroforge.formats.binpack import chunks as binpack_chunks
from zeroforge.formats.binpack import map_file
from zeroforge.formats.plain import SUFFIX as PLAIN_SUFFIX
from zeroforge.formats.plain import read_plain
from zeroforge.formats.sfbin import RECORD_BYTES
from zeroforge.formats.sfbin import SUFFIX as BIN_SUFFIX

try:
    from zeroforge.chess import _decoder
except ImportError as error:  # pragma: no cover - only without the build step
    raise ImportError(
        "zeroforge.chess._decoder (compiled C) is not built: run `make install` (or, in a work "
        "tree, `.venv/bin/python setup.py build_ext --inplace`)"
    ) from error

RECORD_DTYPE = np.dtype(
    [
        ("us", "<i2", (32,)),
        ("them", "<i2", (32,)),
        ("score", "<i2"),
        ("ply", "<u2"),
        ("move", "<u2"),
        ("result", "i1"),
        ("side", "u1"),
        ("pieces", "u1"),
        ("flags", "u1"),
        ("pad", "u1", (6,)),
    ]
)
assert RECORD_DTYPE.itemsize == _decoder.record_size(), "record layout differs from decode.h"
_decoder.load_features(*(table.tobytes() for table in feature_tables()))
FLAG_IN_CHECK, FLAG_CAPTURE = 1, 2
RECORDS_PER_ARRAY = 1 << 16  # decoded at a time (9 MiB of records; any chain fits: <= 65,536)
SPANS_PER_CALL = 1024  # .binpack chunks decoded by one call into C
SUFFIXES = (BINPACK_SUFFIX, BIN_SUFFIX, PLAIN_SUFFIX)
Select = Callable[[int], bool]


def _array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=RECORD_DTYPE)


def empty_records() -> np.ndarray:
    return np.empty(0, dtype=RECORD_DTYPE)


def binpack_runs(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(chunk index of each record, records) of a .binpack file, many chunks a run: C decodes
    SPANS_PER_CALL chunks a call into one array (a gensfen chunk holds one game, about 60
    positions: a call or an array each would cost more than decoding it). With skip_bad a bad
    chain costs the rest of its chunk (the bit stream cannot be resynchronised), as in
    formats.binpack."""
    stats = stats if stats is not None else ReadStats()
    data = map_file(path, "chunk 0 (byte 0)")
    view = memoryview(data)
    walk = binpack_chunks(path, data, stats, skip_bad)
    records, used = empty_records(), 0
    raw = records.view(np.uint8)  # (a plain buffer is quicker to hand to C than records)
    try:
        while True:
            spans, bad_header = [], None
            try:
                for index, start, end in walk:
                    if select is None or select(index):
                        spans.append((index, start, end))
                        if len(spans) == SPANS_PER_CALL:
                            break
            except ChessDataError as error:  # the chunks before it come out first
                bad_header = error
            if not spans and bad_header is None:
                return
            chunk = np.array([index for index, _, _ in spans], np.int64)
            bounds = np.array([(start, end) for _, start, end in spans], np.int64).reshape(-1, 2)
            span, offset = 0, int(bounds[0, 0]) if spans else 0
            while span < len(spans):
                if used == len(records):
                    records, used = np.empty(RECORDS_PER_ARRAY, RECORD_DTYPE), 0
                    raw = records.view(np.uint8)
                counts = np.zeros(len(spans), np.int64)
                span, offset, count, error, ply = _decoder.decode_binpack(
                    view, bounds, span, offset, raw, used, counts
                )
                stats.records += count
                if count:
                    yield np.repeat(chunk, counts), records[used : used + count]
                    used += count
                if error:
                    where = f"chunk {chunk[span]}, chain at byte {offset}"
                    reason = f"ply {ply}: {error}" if ply else f"stem: {error}"
                    stats.bad(ChessDataError(path, where, reason), skip_bad)
                    span += 1
                elif span < len(spans):  # the next chain needs a fresh array
                    used = len(records)
            if bad_header is not None:
                raise bad_header
    finally:
        walk.close()
        view.release()
        if isinstance(data, mmap.mmap):
            data.close()


def by_piece(runs: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
    """(piece, records) from (piece of each record, records) runs."""
    for pieces, records in runs:
        cuts = [0, *(np.flatnonzero(pieces[1:] != pieces[:-1]) + 1).tolist(), len(pieces)]
        for start, end in zip(cuts[:-1], cuts[1:], strict=False):
            yield int(pieces[start]), records[start:end]


def iter_binpack(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(chunk index, records) of a .binpack file (binpack_runs split by chunk)."""
    return by_piece(binpack_runs(path, skip_bad, stats, select))


def iter_bin(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(block index, records) of a .bin file, RECORDS_PER_ARRAY records a block."""
    stats = stats if stats is not None else ReadStats()
    data = map_file(path, "record 0 (byte 0)")
    view = memoryview(data)
    block_bytes = RECORDS_PER_ARRAY * RECORD_BYTES
    try:
        for block, start in enumerate(range(0, len(data), block_bytes)):
            if select is not None and not select(block):
                continue
            first = start // RECORD_BYTES
            whole = min(block_bytes, (len(data) - start) // RECORD_BYTES * RECORD_BYTES)
            done = 0
            while done < whole:
                records = np.empty((whole - done) // RECORD_BYTES, RECORD_DTYPE)
                with view[start + done : start + whole] as part:
                    count, error, bad = _decoder.decode_bin(part, records)
                records = records[:count]
                stats.records += len(records)
                if len(records):
                    yield block, records
                if not error:
                    break
                record = first + done // RECORD_BYTES + bad
                where = f"record {record} (byte {record * RECORD_BYTES})"
                stats.bad(ChessDataError(path, where, error), skip_bad)
                done += (bad + 1) * RECORD_BYTES
            if start + block_bytes >= len(data) and len(data) % RECORD_BYTES:
                record = len(data) // RECORD_BYTES
                where = f"record {record} (byte {record * RECORD_BYTES})"
                reason = f"cut short: {len(data) % RECORD_BYTES} of {RECORD_BYTES} bytes"
                stats.bad(ChessDataError(path, where, reason), skip_bad)
    finally:
        view.release()
        if isinstance(data, mmap.mmap):
            data.close()


def iter_plain(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(0, records) of a .plain file (text: parsed and checked by formats.plain, then
    featurised in C), RECORDS_PER_ARRAY at a time."""
    if select is not None and not select(0):
        return
    stats = stats if stats is not None else ReadStats()
    parts: list[bytes] = []
    for record in read_plain(path, skip_bad=skip_bad, stats=stats):
        parts.append(
            _decoder.decode_fen(record.fen, record.move, record.score, record.ply, record.result)
        )
        if len(parts) == RECORDS_PER_ARRAY:
            yield 0, _array(b"".join(parts))
            parts = []
    if parts:
        yield 0, _array(b"".join(parts))


READERS = {BINPACK_SUFFIX: iter_binpack, BIN_SUFFIX: iter_bin, PLAIN_SUFFIX: iter_plain}


def iter_decoded(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(piece, records) of any of the three formats, chosen by the file's suffix."""
    suffix = os.path.splitext(str(path))[1]
    if suffix not in READERS:
        raise ValueError(f"{path}: not chess training data (expected one of {SUFFIXES})")
    return READERS[suffix](path, skip_bad, stats, select)


def decoded_runs(
    path: str | os.PathLike,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    select: Select | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(piece of each record, records) of any of the three formats: iter_decoded in runs of
    many pieces where the format has small ones (.binpack)."""
    if os.path.splitext(str(path))[1] == BINPACK_SUFFIX:
        yield from binpack_runs(path, skip_bad, stats, select)
        return
    for piece, records in iter_decoded(path, skip_bad, stats, select):
        yield np.full(len(records), piece, np.int64), records


def read_decoded(path: str | os.PathLike, skip_bad: bool = False) -> np.ndarray:
    """All records of a file in one array (for small files and tests)."""
    parts = [records for _, records in iter_decoded(path, skip_bad)]
    return np.concatenate(parts) if parts else empty_records()


def move_uci(code: int) -> str:
    """A record's move field as UCI text."""
    origin, to, promotion = code & 63, (code >> 6) & 63, code >> 12
    squares = "abcdefgh"
    text = f"{squares[origin & 7]}{(origin >> 3) + 1}{squares[to & 7]}{(to >> 3) + 1}"
    return text + ("", "n", "b", "r", "q")[promotion]


def perft(fen: str, depth: int) -> int:
    """Leaf nodes of the legal move tree of `fen` to `depth` (the move generator's check)."""
    return _decoder.perft(fen, depth)


def legal_moves(fen: str) -> list[str]:
    """The legal moves of `fen` as UCI, castling as king to g/c."""
    return _decoder.legal_moves(fen)


def fen_record(fen: str, move: str, score: int = 0, ply: int = 0, result: int = 0) -> np.ndarray:
    """One record from a FEN and a UCI move (ValueError if either is bad)."""
    return _array(_decoder.decode_fen(fen, move, score, ply, result))[0]
