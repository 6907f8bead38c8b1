"""Packed binary shards: training positions as fixed-size records, with optional search values.

Leela Zero's text chunks have no room for the search value q and cost a parse per read; a shard
is read with one `np.frombuffer` (or `np.memmap`) and no parsing. Layout, little-endian:

    offset  size  field
    0       8     MAGIC b"ZFSHARD\\0"
    8       4     uint32 format VERSION (1)
    12      4     uint32 header size H: bytes before the first record (a multiple of 64)
    16      4     uint32 record size R (bytes)
    20      8     uint64 record count N
    28      4     uint32 length L of the field table
    32      L     field table: ASCII JSON list of [name, numpy dtype string, shape]
    32+L    ...   zero padding up to H
    H       N*R   records: the numpy structured dtype of the field table, packed, in order

The file size must be exactly H + N*R. Fields, in the order written:

    planes        u1   [16,46]  the 16 stored planes, each bit-packed with np.packbits
                                (MSB first, point 360 alone in byte 45), as chunks.pack_planes
    side_to_move  u1   []       0 black, 1 white
    winner        i1   []       +1 if the side to move won, else -1
    policy        f4 or f2 [362] visit fractions, index row*19+col, 361 = pass
    q             f4   []       optional: search value of the root, side to move, in [-1, 1]
    net_value     f4   []       optional: raw network value, side to move, in [-1, 1]
    ownership     i1   [361]    optional: final owner of each point, side to move's view:
                                +1 the side to move's, -1 the opponent's, 0 no one's (seki, dame)
    score         f4   []       optional: final margin in points, side to move's view (area
                                minus the opponent's area minus komi for black; |score| <= 400)
    has_teacher   u1   []       optional, with the three below: 1 if a teacher (GNU Go, `zeroforge
                                annotate --teacher`) judged this position, 0 if not (then the
                                three are 0 / -1 and mean nothing)
    teacher_moves i2   [10]     the teacher's candidate moves (index as policy), best first, -1
                                after the last; none at all: the teacher named no move
    teacher_values f4  [10]     their values in points (GNU Go's move values, >= 0), 0 after the last
    teacher_score f4   []       the teacher's score estimate, side to move's view (|score| <= 400)

Why float32 for the policy by default (float16 on request): a self-play policy is a dense-ish
vector of visit fractions (hundreds of non-zero entries at 1,600 visits), so a sparse layout
would need variable-size records and a decode step. float16 would halve the largest field
(records of 1,462 instead of 2,186 bytes) at a relative error below 2^-11 per entry, harmless
for training; but numpy converts float16 to float32 at about 0.5 us per record (measured here:
2.6 ms for 5,400 records, ten times the cost of reading them), which would make reading a
shard cost as much as converting it. Reading speed is the point of the format, and float32
keeps chunk values bit for bit; `zeroforge data pack --policy-dtype float16` saves disk.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_open
from zeroforge.formats.chunks import Positions, pack_planes, unpack_planes
from zeroforge.go.geometry import NUM_MOVES, NUM_POINTS
from zeroforge.go.planes import STORED_PLANES

MAGIC = b"ZFSHARD\x00"
VERSION = 1
HEADER_ALIGN = 64
FIXED_HEADER = struct.Struct("<8sIIIQI")  # magic, version, header size, record size, N, L
PACKED_PLANE_BYTES = (NUM_POINTS + 7) // 8  # 46
SUFFIX = ".zfs"
POLICY_DTYPES = {"float16": "<f2", "float32": "<f4"}
MAX_CANDIDATES = 10  # GNU Go's top_moves lists at most 10 moves (docs/ENGINES.md#gnu-go)
TEACHER_FIELDS = ("has_teacher", "teacher_moves", "teacher_values", "teacher_score")
OPTIONAL_FIELDS = ("q", "net_value", "ownership", "score", *TEACHER_FIELDS)
# the range [low, high] of each optional field (a board of 361 points and any sane komi; a
# move value of GNU Go is the points a move gains, well below 1,000)
OPTIONAL_RANGES = {
    "q": (-1.0, 1.0),
    "net_value": (-1.0, 1.0),
    "ownership": (-1, 1),
    "score": (-400.0, 400.0),
    "has_teacher": (0, 1),
    "teacher_moves": (-1, NUM_MOVES - 1),
    "teacher_values": (0.0, 1000.0),
    "teacher_score": (-400.0, 400.0),
}
# name -> (allowed dtype strings, shape); the order is the order in a record
FIELD_SPECS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "planes": (("|u1",), (STORED_PLANES, PACKED_PLANE_BYTES)),
    "side_to_move": (("|u1",), ()),
    "winner": (("|i1",), ()),
    "policy": (tuple(POLICY_DTYPES.values()), (NUM_MOVES,)),
    "q": (("<f4",), ()),
    "net_value": (("<f4",), ()),
    "ownership": (("|i1",), (NUM_POINTS,)),
    "score": (("<f4",), ()),
    "has_teacher": (("|u1",), ()),
    "teacher_moves": (("<i2",), (MAX_CANDIDATES,)),
    "teacher_values": (("<f4",), (MAX_CANDIDATES,)),
    "teacher_score": (("<f4",), ()),
}


class ShardError(ValueError):
    """A shard file that cannot be read; the message names the file (and record)."""


@dataclass
class Shard:
    positions: Positions
    q: np.ndarray | None = None  # float32 [N] in [-1, 1]
    net_value: np.ndarray | None = None  # float32 [N] in [-1, 1]
    ownership: np.ndarray | None = None  # int8 [N,361] in {-1, 0, 1}
    score: np.ndarray | None = None  # float32 [N], points
    has_teacher: np.ndarray | None = None  # uint8 [N] in {0, 1}; the three below come with it
    teacher_moves: np.ndarray | None = None  # int16 [N,10], -1 after the last candidate
    teacher_values: np.ndarray | None = None  # float32 [N,10], points
    teacher_score: np.ndarray | None = None  # float32 [N], points

    def __len__(self) -> int:
        return len(self.positions)


def no_teacher(n: int) -> dict[str, np.ndarray]:
    """The teacher fields of n positions no teacher judged (has_teacher 0, moves -1)."""
    return {
        "has_teacher": np.zeros(n, dtype=np.uint8),
        "teacher_moves": np.full((n, MAX_CANDIDATES), -1, dtype=np.int16),
        "teacher_values": np.zeros((n, MAX_CANDIDATES), dtype=np.float32),
        "teacher_score": np.zeros(n, dtype=np.float32),
    }


def record_dtype(policy_dtype: str = "float32", optional: tuple[str, ...] = ()) -> np.dtype:
    """The structured dtype of one record with the given optional fields."""
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown or policy_dtype not in POLICY_DTYPES:
        raise ValueError(
            f"unknown optional fields {sorted(unknown)} or policy dtype "
            f"{policy_dtype!r} (float16 or float32)"
        )
    fields = []
    for name, (dtypes, shape) in FIELD_SPECS.items():
        if name in OPTIONAL_FIELDS and name not in optional:
            continue
        dtype = POLICY_DTYPES[policy_dtype] if name == "policy" else dtypes[0]
        fields.append((name, dtype, shape))
    return np.dtype(fields)


def _field_table(dtype: np.dtype) -> bytes:
    table = [[name, dtype[name].base.str, list(dtype[name].shape)] for name in dtype.names]
    return json.dumps(table, separators=(",", ":")).encode("ascii")


def encode_header(dtype: np.dtype, count: int) -> bytes:
    table = _field_table(dtype)
    size = FIXED_HEADER.size + len(table)
    size += -size % HEADER_ALIGN
    fixed = FIXED_HEADER.pack(MAGIC, VERSION, size, dtype.itemsize, count, len(table))
    return (fixed + table).ljust(size, b"\0")


def to_records(shard: Shard, policy_dtype: str = "float32") -> np.ndarray:
    """Positions (+ the optional fields present) -> structured record array."""
    positions = shard.positions
    arrays = {
        "planes": pack_planes(positions.planes),
        "side_to_move": positions.side_to_move,
        "winner": positions.winner,
        "policy": positions.policy,
        "q": shard.q,
        "net_value": shard.net_value,
        "ownership": shard.ownership,
        "score": shard.score,
        **{name: getattr(shard, name) for name in TEACHER_FIELDS},
    }
    return make_records(arrays, policy_dtype)


def make_records(arrays: dict, policy_dtype: str = "float32") -> np.ndarray:
    """Field arrays (planes already packed [N,16,46]; optional ones may be None or absent)
    -> checked structured record array. ValueError names the first bad record."""
    n = len(arrays["winner"])
    optional = tuple(name for name in OPTIONAL_FIELDS if arrays.get(name) is not None)
    teacher = [name in optional for name in TEACHER_FIELDS]
    if any(teacher) and not all(teacher):
        raise ValueError(f"the teacher fields {TEACHER_FIELDS} come together or not at all")
    records = np.zeros(n, dtype=record_dtype(policy_dtype, optional))
    for name in records.dtype.names:
        values = np.asarray(arrays[name])
        if values.shape != records[name].shape:
            raise ValueError(
                f"{name} has shape {list(values.shape)}, expected {list(records[name].shape)}"
            )
        records[name] = values
    bad = bad_records(records)
    if bad.any():
        raise ValueError(
            f"record {int(np.argmax(bad))}: side to move, winner, policy, q, ownership, score or a teacher field out of range"
        )
    return records


def write_shard(path: str | os.PathLike, shard: Shard, policy_dtype: str = "float32") -> None:
    """Write a shard atomically (temporary file beside it, then rename)."""
    write_records(path, to_records(shard, policy_dtype))


def write_records(path: str | os.PathLike, records: np.ndarray) -> None:
    with atomic_open(path) as handle:
        handle.write(encode_header(records.dtype, len(records)))
        handle.write(np.ascontiguousarray(records).tobytes())


def _parse_header(path: Path, head: bytes, file_size: int) -> tuple[np.dtype, int, int, str]:
    """(record dtype, header size, whole records present, problem or "") after checking the
    header against the file; a size mismatch is the problem, not an exception, so a reader
    that skips damage can still use the whole records of a cut-short file."""
    if len(head) < FIXED_HEADER.size or head[:8] != MAGIC:
        raise ShardError(f"{path}: not a zeroforge shard (bad magic)")
    _, version, header_size, record_size, count, table_len = FIXED_HEADER.unpack_from(head)
    if version != VERSION:
        raise ShardError(f"{path}: shard format version {version}, this reader knows {VERSION}")
    if FIXED_HEADER.size + table_len > min(header_size, len(head)):
        raise ShardError(f"{path}: header truncated or field table larger than the header")
    dtype = _table_dtype(path, head[FIXED_HEADER.size : FIXED_HEADER.size + table_len])
    if dtype.itemsize != record_size:
        raise ShardError(
            f"{path}: header says {record_size}-byte records, fields make {dtype.itemsize}"
        )
    expected = header_size + count * record_size
    if file_size == expected:
        return dtype, header_size, count, ""
    whole = min(count, max(0, file_size - header_size) // record_size)
    problem = (
        f"{path}: {file_size} bytes, expected {expected} for {count} records "
        f"(truncated or padded; {whole} whole records present)"
    )
    return dtype, header_size, whole, problem


def _table_dtype(path: Path, table: bytes) -> np.dtype:
    try:
        fields = [(str(name), str(dt), tuple(shape)) for name, dt, shape in json.loads(table)]
    except (ValueError, TypeError) as exc:
        raise ShardError(f"{path}: unreadable field table ({exc})") from None
    names = [f[0] for f in fields]
    required = [n for n in FIELD_SPECS if n not in OPTIONAL_FIELDS]
    if not set(required) <= set(names) or len(set(names)) != len(names):
        raise ShardError(f"{path}: fields {names} lack one of {required} or repeat a name")
    if 0 < len(set(TEACHER_FIELDS) & set(names)) < len(TEACHER_FIELDS):
        raise ShardError(f"{path}: fields {names} hold some of {TEACHER_FIELDS}, not all")
    for name, dt, shape in fields:
        if (
            name not in FIELD_SPECS
            or dt not in FIELD_SPECS[name][0]
            or shape != FIELD_SPECS[name][1]
        ):
            raise ShardError(
                f"{path}: field {name!r} {dt} {list(shape)} is not one this reader knows"
            )
    return np.dtype(fields)


def read_records(path: str | os.PathLike, mmap: bool = False) -> np.ndarray:
    """The structured record array of a shard (a read-only memory map with mmap=True).
    Raises ShardError naming the file for a bad header or a truncated file."""
    records, problem = _read_records(Path(path), mmap)
    if problem:
        raise ShardError(problem)
    return records


def _read_records(path: Path, mmap: bool) -> tuple[np.ndarray, str]:
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(4096)
            header_size = _parse_header(path, head, size)[1]
            if header_size > len(head):
                head += handle.read(header_size - len(head))
            dtype, header_size, count, problem = _parse_header(path, head, size)
            if count == 0:
                return np.zeros(0, dtype=dtype), problem
            if mmap:
                shape = (count,)
                return np.memmap(
                    path, dtype=dtype, mode="r", offset=header_size, shape=shape
                ), problem
            handle.seek(header_size)
            data = handle.read(count * dtype.itemsize)
    except OSError as exc:
        raise ShardError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return np.frombuffer(data, dtype=dtype, count=count), problem


def bad_records(records: np.ndarray, policy: np.ndarray | None = None) -> np.ndarray:
    """bool [N]: records whose side to move, winner, policy (each entry in [0, 1]) or an
    optional field (OPTIONAL_RANGES) is out of range. `policy`: the policy field already as
    float32, if at hand."""
    bad = (records["side_to_move"] > 1) | (np.abs(records["winner"].astype(np.int16)) != 1)
    policy = records["policy"] if policy is None else policy
    if not (policy.min(initial=0) >= 0 and policy.max(initial=0) <= 1):  # NaN fails both
        bad |= ~((policy >= 0) & (policy <= 1)).all(axis=1)
    for name in OPTIONAL_FIELDS:
        if name in records.dtype.names:
            values = records[name].astype(np.float32)
            low, high = OPTIONAL_RANGES[name]
            bad |= ~((values >= low) & (values <= high)).reshape(len(records), -1).all(axis=1)
    return bad


def check_records(path: str | os.PathLike, records: np.ndarray) -> None:
    """ShardError naming the file and the first bad record, if any."""
    bad = bad_records(records)
    if bad.any():
        raise ShardError(
            f"{path}: record {int(np.argmax(bad))}: side to move, winner, policy, q, ownership, score or a teacher field out of range"
        )


def records_to_shard(records: np.ndarray) -> Shard:
    """Structured records -> Positions (planes unpacked, policy float32) and optional fields."""
    positions = Positions(
        planes=unpack_planes(records["planes"]),
        side_to_move=records["side_to_move"].copy(),
        policy=records["policy"].astype(np.float32),
        winner=records["winner"].copy(),
    )
    names = records.dtype.names
    optional = {n: records[n].copy() if n in names else None for n in OPTIONAL_FIELDS}
    return Shard(positions, **optional)


def read_shard(path: str | os.PathLike) -> Shard:
    records = read_records(path)
    check_records(path, records)
    return records_to_shard(records)


def shard_fields(path: str | os.PathLike) -> tuple[str, ...]:
    """The field names of a shard (reads the header only)."""
    return read_records(path, mmap=True).dtype.names


def read_shard_records(path: str | os.PathLike, on_error: str = "raise"):
    """The dataset's reader (`data.files`): ({"planes" packed [N,16,46], "side_to_move",
    "policy" float32, "winner", and q, ownership, score and the teacher fields when the shard
    has them}, bad_records, error_messages).
    With on_error="skip", bad records and the tail of a cut-short file are dropped and counted;
    an unreadable header still raises ShardError."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    # A read-only memory map and views into it: no copy until the dataset's shuffle buffer
    # gathers the records (what makes shards fast: bytes are never parsed or copied twice).
    records, problem = _read_records(Path(path), mmap=True)
    errors = [problem] if problem else []
    policy = records["policy"]
    if policy.dtype != np.float32:
        policy = policy.astype(np.float32)
    bad = bad_records(records, policy)
    if bad.any():
        errors.insert(0, f"{path}: record {int(np.argmax(bad))}: value out of range")
    if errors and on_error == "raise":
        raise ShardError(errors[0])
    if bad.any():
        records, policy = records[~bad], policy[~bad]
    out = {
        "planes": records["planes"],
        "side_to_move": records["side_to_move"],
        "policy": policy,
        "winner": records["winner"],
    }
    for name in ("q", "ownership", "score", *TEACHER_FIELDS):
        if name in records.dtype.names:
            out[name] = records[name]
    return out, int(bad.sum()) + bool(problem), errors
