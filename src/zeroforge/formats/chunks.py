"""Leela Zero training chunks: read (vectorised, every record validated) and write.

A chunk is text, usually gzipped (`leelaz` `dump_training` / `dump_supervised` write
`NAME.N.gz`). Each position (record) is exactly 19 lines:

    lines 1-16  input planes 0-15: 90 hex digits for points 0..359, four points per digit,
                most significant bit first (`8` = point 0 = A1), then `0`/`1` for point 360.
                Planes 0-7: stones of the side to move at t, t-1, ..., t-7; 8-15: the opponent's.
    line 17     side to move: `0` black, `1` white
    line 18     362 floats separated by single spaces: visit fractions (one-hot for supervised),
                index = row * 19 + col (row 0 = rank 1), 361 = pass; C++ default float
                printing (`0`, `0.5`, `0.333333`, `1e-05`)
    line 19     `1` if the side to move won the game, else `-1`

Gzip or plain text is told by the magic bytes, not the file name. Decoding works on the whole
file at once with numpy: hex planes through a lookup table and `unpackbits`; the policy line is
tokenised as bytes and only its non-zero entries are converted to floats (most are `0`).
Every bad record raises (or, with `on_error="skip"`, is counted and dropped) a `ChunkError`
naming the file, the record and the line.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_write_bytes
from zeroforge.go.geometry import NUM_MOVES, NUM_POINTS
from zeroforge.go.planes import STORED_PLANES

GZIP_MAGIC = b"\x1f\x8b"
LINES_PER_RECORD = 19
SIDE_LINE, POLICY_LINE, WINNER_LINE = 16, 17, 18  # 0-based line offsets inside a record
HEX_DIGITS = 90  # points 0..359, four per hex digit
PLANE_LINE_LENGTH = HEX_DIGITS + 1  # plus `0`/`1` for point 360
PACKED_BYTES = 46  # 45 bytes for points 0..359 + one byte holding point 360 in its top bit
POLICY_SUM_TOLERANCE = 1e-3  # the bound on |sum(policy) - 1|
ENTRY_WINDOW = 16  # bytes searched at once for the end of a policy entry (`1.23457e-05`: 11)
MAX_ERRORS = 5  # error messages kept by read_chunk(on_error="skip")
INFLATE_BLOCK = 1 << 16  # compressed bytes fed to zlib at a time
GZIP_LEVEL = 6

NEWLINE, SPACE, ZERO, ONE, MINUS = (ord(c) for c in "\n 01-")
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_VALUE[_c] = 10 + _i
# Two hex digits read as one little-endian uint16 -> their byte value, 256 if not hex.
_HEX_PAIR = np.full(1 << 16, 256, dtype=np.uint16)
_first, _second = np.meshgrid(*2 * [np.flatnonzero(_HEX_VALUE != 255)], indexing="ij")
_HEX_PAIR[_first | (_second << 8)] = (_HEX_VALUE[_first] << 4) | _HEX_VALUE[_second]
_POLICY_CHAR = np.zeros(256, dtype=bool)  # bytes allowed inside a policy number
_POLICY_CHAR[np.frombuffer(b"0123456789.eE+-", dtype=np.uint8)] = True
_HEX_DIGIT_CHARS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class ChunkError(ValueError):
    """A chunk file that is not valid training data: names the file, record and line."""

    def __init__(self, path: str | os.PathLike, record: int, line: int, reason: str):
        self.path, self.record, self.line, self.reason = str(path), record, line, reason
        super().__init__(f"{self.path}: record {record} (line {line}): {reason}")

    def __reduce__(self):  # picklable, e.g. out of a worker process
        return ChunkError, (self.path, self.record, self.line, self.reason)


@dataclass
class Positions:
    """Decoded training positions, N of them (all arrays share the first axis)."""

    planes: np.ndarray  # uint8 [N,16,361], 0/1, the stored planes in chunk order
    side_to_move: np.ndarray  # uint8 [N], 0 black, 1 white
    policy: np.ndarray  # float32 [N,362]
    winner: np.ndarray  # int8 [N], +1 if the side to move won, else -1

    def __len__(self) -> int:
        return len(self.winner)

    def __getitem__(self, index) -> Positions:
        """Any numpy index (slice, int array, bool mask); an int gives a Positions of one."""
        if isinstance(index, int | np.integer):
            index = slice(int(index), int(index) + 1) if index != -1 else slice(-1, None)
        return Positions(
            self.planes[index], self.side_to_move[index], self.policy[index], self.winner[index]
        )

    @classmethod
    def empty(cls) -> Positions:
        return cls(
            np.zeros((0, STORED_PLANES, NUM_POINTS), np.uint8),
            np.zeros(0, np.uint8),
            np.zeros((0, NUM_MOVES), np.float32),
            np.zeros(0, np.int8),
        )

    @classmethod
    def concat(cls, parts: list[Positions]) -> Positions:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("planes", "side_to_move", "policy", "winner")
            )
        )


@dataclass
class ChunkReadResult:
    positions: Positions
    bad_records: int = 0  # records dropped by on_error="skip"
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS messages


# ---------------------------------------------------------------------------------------
# Reading


def _gunzip(raw: bytes) -> tuple[bytes, str | None]:
    """Inflate every gzip member; on damage return what came out before it and a reason."""
    parts: list[bytes] = []
    rest = raw
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        offset = 0
        try:
            while not inflater.eof and offset < len(rest):
                parts.append(inflater.decompress(rest[offset : offset + INFLATE_BLOCK]))
                offset += INFLATE_BLOCK
        except zlib.error as exc:
            return b"".join(parts), f"corrupt gzip data ({exc})"
        if not inflater.eof:
            return b"".join(parts), "gzip stream truncated (file cut short)"
        rest = inflater.unused_data + rest[offset:]
        if not rest.strip(b"\0"):
            return b"".join(parts), None
        if not rest.startswith(GZIP_MAGIC):
            return b"".join(parts), "unexpected bytes after the end of the gzip stream"


def _load_text(path: str | os.PathLike) -> tuple[bytes, str | None]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ChunkError(path, 0, 1, f"cannot read file ({exc.strerror or exc})") from None
    if raw.startswith(GZIP_MAGIC):
        data, problem = _gunzip(raw)
    else:
        data, problem = raw, None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if problem is not None:
        data = data[: data.rfind(b"\n") + 1]  # a cut-off last line is part of the damage
    elif data and not data.endswith(b"\n"):
        data += b"\n"
    return data, problem


def _show(line: bytes) -> str:
    text = line[:40].decode("ascii", "backslashreplace")
    return repr(text + ("..." if len(line) > 40 else ""))


def _explain(lines: list[bytes]) -> tuple[int, str]:
    """One record's first bad line (0-based offset) and why: the readable reference check
    behind the vectorised one, run only on records that failed."""
    for i in range(STORED_PLANES):
        line = lines[i]
        hex_ok = all(_HEX_VALUE[c] != 255 for c in line[:HEX_DIGITS])
        if len(line) != PLANE_LINE_LENGTH or not hex_ok or line[HEX_DIGITS:] not in (b"0", b"1"):
            return i, (
                f"input plane {i} must be {HEX_DIGITS} hex digits then 0 or 1, "
                f"got {len(line)} chars {_show(line)}"
            )
    if lines[SIDE_LINE] not in (b"0", b"1"):
        return SIDE_LINE, f"side to move must be 0 or 1, got {_show(lines[SIDE_LINE])}"
    policy_line = lines[POLICY_LINE]
    odd = sorted({chr(c) for c in policy_line if c != SPACE and not _POLICY_CHAR[c]})
    if odd:
        return POLICY_LINE, f"policy holds characters other than numbers: {odd[:5]}"
    tokens = policy_line.split(b" ")
    if b"" in tokens:
        return POLICY_LINE, "policy has an empty entry (two spaces in a row, or one at an end)"
    if len(tokens) != NUM_MOVES:
        return POLICY_LINE, f"policy has {len(tokens)} numbers, expected {NUM_MOVES}"
    for k, token in enumerate(tokens):
        try:
            with np.errstate(over="ignore"):
                value = np.float32(float(token))
        except ValueError:
            return POLICY_LINE, f"policy entry {k} is not a number: {_show(token)}"
        if not np.isfinite(value) or value < 0:
            return POLICY_LINE, f"policy entry {k} must be finite and >= 0, got {_show(token)}"
    total = float(np.sum(np.array(tokens).astype(np.float32), dtype=np.float64))
    if abs(total - 1.0) > POLICY_SUM_TOLERANCE:
        return POLICY_LINE, f"policy sums to {total:.6g}, not 1 (tolerance {POLICY_SUM_TOLERANCE})"
    if lines[WINNER_LINE] not in (b"1", b"-1"):
        return WINNER_LINE, f"winner must be 1 or -1, got {_show(lines[WINNER_LINE])}"
    return 0, "record failed validation"  # not reached when both checks agree


def _line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """[records,19] start offsets and end offsets (the newline) of each complete record's
    lines, and the number of lines."""
    ends = np.flatnonzero(buf == NEWLINE)
    lines_total = len(ends)
    ends = ends[: lines_total - lines_total % LINES_PER_RECORD]
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    shape = (-1, LINES_PER_RECORD)
    return starts.reshape(shape), ends.reshape(shape), lines_total


def _short_lines_ok(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Side line `0`/`1`, winner line `1`/`-1`: [records] bool."""
    side0 = buf[starts[:, SIDE_LINE]]
    side_ok = (lengths[:, SIDE_LINE] == 1) & ((side0 == ZERO) | (side0 == ONE))
    w0 = buf[starts[:, WINNER_LINE]]
    w1 = buf[np.minimum(starts[:, WINNER_LINE] + 1, len(buf) - 1)]
    win_len = lengths[:, WINNER_LINE]
    winner_ok = ((win_len == 1) & (w0 == ONE)) | ((win_len == 2) & (w0 == MINUS) & (w1 == ONE))
    return side_ok & winner_ok


def _decode_planes(buf: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed planes uint8 [M,16,46] (np.packbits layout, count 361) and [M] ok flags,
    for records whose plane lines all have the right length."""
    block = STORED_PLANES * (PLANE_LINE_LENGTH + 1)  # the 16 plane lines are contiguous
    windows = np.lib.stride_tricks.sliding_window_view(buf, block)
    text = windows[starts[:, 0]].reshape(-1, STORED_PLANES, PLANE_LINE_LENGTH + 1)
    pairs = _HEX_PAIR[text.view("<u2")[..., : HEX_DIGITS // 2]]
    last = text[..., HEX_DIGITS]
    ok = (pairs < 256).all(axis=(1, 2)) & ((last == ZERO) | (last == ONE)).all(axis=1)
    packed = np.empty(text.shape[:2] + (PACKED_BYTES,), dtype=np.uint8)
    packed[..., :-1] = pairs
    packed[..., -1] = (last == ONE).astype(np.uint8) << 7
    return packed, ok


def _parse_numbers(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """float32 values of the tokens and which of them parsed."""
    try:
        values, parsed = np.array(tokens).astype(np.float64), np.ones(len(tokens), dtype=bool)
    except ValueError:
        values, parsed = np.zeros(len(tokens)), np.ones(len(tokens), dtype=bool)
        for i, token in enumerate(tokens):  # error path only: find the bad tokens
            try:
                values[i] = float(token)
            except ValueError:
                parsed[i] = False
    with np.errstate(over="ignore"):  # beyond float32's range: inf, refused as not finite
        return values.astype(np.float32), parsed


def _decode_policy(policy_lines: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """float32 [M,362] and [M] ok flags from M policy lines.

    Entries are separated by single spaces. Only entries holding a byte other than `0` are
    located and converted (most entries are `0`), so the work over all bytes is a few passes.
    """
    m = len(policy_lines)
    if m == 0:
        return np.zeros((0, NUM_MOVES), dtype=np.float32), np.zeros(0, dtype=bool)
    arr = np.frombuffer(b"\n".join(policy_lines) + b"\n", dtype=np.uint8)
    is_sep = (arr == SPACE) | (arr == NEWLINE)  # each entry ends at one of these
    seps = np.cumsum(is_sep, dtype=np.int32)  # separators in arr[: i + 1]
    line_end = np.cumsum(np.fromiter(map(len, policy_lines), np.int64, m) + 1) - 1
    seps_through = seps[line_end]
    per_line = np.diff(seps_through, prepend=0)  # entries per line
    ok = per_line == NUM_MOVES
    prev_sep = np.concatenate(([True], is_sep[:-1]))
    ok[np.searchsorted(line_end, np.flatnonzero(is_sep & prev_sep))] = False  # empty entries
    # Bytes other than `0` and separators: in non-zero entries, or garbage.
    busy = np.flatnonzero(~is_sep & (arr != ZERO))
    ok[np.searchsorted(line_end, busy[~_POLICY_CHAR[arr[busy]]])] = False
    zero = arr == ZERO
    zero[:-1] &= is_sep[1:]  # `0` followed by a separator: a zero entry if it also starts one
    first = np.flatnonzero(~is_sep & prev_sep & ~zero)  # first byte of each non-zero entry
    line = np.searchsorted(line_end, first)
    index = seps[first] - (seps_through - per_line)[line]
    values, parsed = _parse_numbers(_entries(arr, is_sep, first))
    ok[line[~parsed | ~np.isfinite(values) | (values < 0)]] = False
    use = ok[line] & (index < NUM_MOVES)
    policy = np.zeros((m, NUM_MOVES), dtype=np.float32)
    policy[line[use], index[use]] = values[use]
    total = policy.sum(axis=1, dtype=np.float64)
    ok &= np.abs(total - 1.0) <= POLICY_SUM_TOLERANCE
    return policy, ok


def _entries(arr: np.ndarray, is_sep: np.ndarray, first: np.ndarray) -> list[bytes]:
    """The text of the entries starting at `first` (each runs to the next separator)."""
    window = np.minimum(first[:, None] + np.arange(ENTRY_WINDOW), len(arr) - 1)
    hits = is_sep[window]
    end = first + hits.argmax(axis=1)
    for i in np.flatnonzero(~hits.any(axis=1)).tolist():  # rare: an entry longer than the window
        end[i] = first[i] + int(np.argmax(is_sep[first[i] :]))
    size = end - first + 1  # with the separator after it
    offsets = np.cumsum(size) - size
    gather = np.arange(int(size.sum())) + np.repeat(first - offsets, size)
    text = arr[gather]
    text[is_sep[gather]] = SPACE
    return text.tobytes().split(b" ")[:-1]


def _decode(data: bytes, path, problem: str | None, on_error: str):
    """Packed planes, side, policy, winner of the good records, plus bad count and errors."""
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, lines_total = _line_bounds(buf)
    records = len(starts)
    lengths = ends - starts
    ok = (lengths[:, :STORED_PLANES] == PLANE_LINE_LENGTH).all(axis=1)
    ok &= _short_lines_ok(buf, starts, lengths)
    packed = np.zeros((records, STORED_PLANES, PACKED_BYTES), dtype=np.uint8)
    rows = np.flatnonzero(ok)
    if len(rows):
        packed[rows], planes_ok = _decode_planes(buf, starts[rows])
        ok[rows] &= planes_ok
    lines = data.split(b"\n")
    policy, policy_ok = _decode_policy(
        lines[POLICY_LINE : records * LINES_PER_RECORD : LINES_PER_RECORD]
    )
    ok &= policy_ok
    side = (buf[starts[:, SIDE_LINE]] == ONE).astype(np.uint8)
    winner = np.where(buf[starts[:, WINNER_LINE]] == MINUS, -1, 1).astype(np.int8)

    errors: list[ChunkError] = []
    for r in np.flatnonzero(~ok)[:MAX_ERRORS].tolist():
        offset, reason = _explain(lines[r * LINES_PER_RECORD : (r + 1) * LINES_PER_RECORD])
        errors.append(ChunkError(path, r, r * LINES_PER_RECORD + offset + 1, reason))
    tail = lines_total - records * LINES_PER_RECORD
    bad = int((~ok).sum())
    if tail or problem is not None:
        reason = problem or (
            f"file ends inside the record after {tail} of its {LINES_PER_RECORD} lines"
        )
        errors.append(ChunkError(path, records, records * LINES_PER_RECORD + tail + 1, reason))
        bad += 1
    if records == 0 and not errors:
        errors.append(ChunkError(path, 0, 1, "no training records (empty file)"))
    if errors and on_error == "raise":
        raise errors[0]
    return (packed[ok], side[ok], policy[ok], winner[ok]), bad, [str(e) for e in errors]


def unpack_planes(packed: np.ndarray) -> np.ndarray:
    """uint8 [...,46] packed planes -> uint8 [...,361] of 0/1."""
    return np.unpackbits(packed, axis=-1, count=NUM_POINTS)


def pack_planes(planes: np.ndarray) -> np.ndarray:
    """uint8 [...,361] of 0/1 -> uint8 [...,46] (the layout `read_chunk_packed` returns)."""
    return np.packbits(planes.astype(bool), axis=-1)


def read_chunk_packed(path: str | os.PathLike, on_error: str = "raise"):
    """Like `read_chunk`, but planes stay bit-packed ([N,16,46], 8x smaller) for buffers.

    Returns ((packed_planes, side_to_move, policy, winner), bad_records, error_messages).
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    data, problem = _load_text(path)
    return _decode(data, path, problem, on_error)


def read_chunk(path: str | os.PathLike, on_error: str = "raise") -> ChunkReadResult:
    """Decode one chunk file (gzip or plain text). `on_error="skip"` drops and counts bad
    records instead of raising `ChunkError` on the first one."""
    (packed, side, policy, winner), bad, errors = read_chunk_packed(path, on_error)
    positions = Positions(unpack_planes(packed), side, policy, winner)
    return ChunkReadResult(positions, bad, errors)


# ---------------------------------------------------------------------------------------
# Writing


def _check_positions(positions: Positions) -> None:
    n = len(positions)
    shapes = {
        "planes": (n, STORED_PLANES, NUM_POINTS),
        "side_to_move": (n,),
        "policy": (n, NUM_MOVES),
        "winner": (n,),
    }
    for name, shape in shapes.items():
        got = getattr(positions, name).shape
        if got != shape:
            raise ValueError(f"Positions.{name} has shape {list(got)}, expected {list(shape)}")
    if (
        not np.isin(positions.planes, (0, 1)).all()
        or not np.isin(positions.side_to_move, (0, 1)).all()
    ):
        raise ValueError("planes and side_to_move must be 0/1")
    if not np.isin(positions.winner, (-1, 1)).all():
        raise ValueError("winner must be +1 or -1")
    policy = positions.policy
    if not np.isfinite(policy).all() or (policy < 0).any():
        raise ValueError("policy must be finite and non-negative")
    if n and np.abs(policy.sum(axis=1, dtype=np.float64) - 1).max() > POLICY_SUM_TOLERANCE:
        raise ValueError(f"every policy row must sum to 1 within {POLICY_SUM_TOLERANCE}")


def _plane_text(planes: np.ndarray) -> np.ndarray:
    """uint8 [N,16,361] -> the 16 plane lines of each record as bytes, [N,16*92]."""
    n = len(planes)
    packed = np.packbits(planes[..., : HEX_DIGITS * 4].astype(bool), axis=-1)
    text = np.empty((n, STORED_PLANES, PLANE_LINE_LENGTH + 1), dtype=np.uint8)
    text[..., 0:HEX_DIGITS:2] = _HEX_DIGIT_CHARS[packed >> 4]
    text[..., 1:HEX_DIGITS:2] = _HEX_DIGIT_CHARS[packed & 15]
    text[..., HEX_DIGITS] = ZERO + planes[..., NUM_POINTS - 1]
    text[..., HEX_DIGITS + 1] = NEWLINE
    return text.reshape(n, -1)


def _policy_lines(policy: np.ndarray) -> list[str]:
    """Each row as leelaz prints it: C++ default float format (`%g`), zeros as `0`."""
    tokens = np.full(policy.shape, "0", dtype=object)
    nonzero = policy != 0
    tokens[nonzero] = [f"{v:g}" for v in policy[nonzero].tolist()]
    return [" ".join(row) for row in tokens.tolist()]


def encode_chunk(positions: Positions) -> bytes:
    """The chunk text of `positions` (not compressed)."""
    _check_positions(positions)
    planes = _plane_text(positions.planes)
    out = []
    for r, policy_line in enumerate(_policy_lines(positions.policy)):
        out.append(planes[r].tobytes())
        out.append(
            b"%d\n%s\n%d\n" % (positions.side_to_move[r], policy_line.encode(), positions.winner[r])
        )
    return b"".join(out)


def write_chunk(path: str | os.PathLike, positions: Positions) -> None:
    """Write a leelaz-compatible chunk; gzip when the name ends in `.gz`; atomic."""
    text = encode_chunk(positions)
    if str(path).endswith(".gz"):
        text = gzip.compress(text, compresslevel=GZIP_LEVEL, mtime=0)
    atomic_write_bytes(path, text)
