"""The streaming NNUE training dataset: Stockfish training data (.binpack, .bin, .plain) ->
shuffled batches of sparse HalfKAv2_hm features.

`ChessDataset` is a `data.stream.StreamDataset` (same file order per epoch, sampling, sharding
over DataLoader workers x DDP ranks, shuffle buffer, `batches_per_epoch`, `set_epoch`; use
`DataLoader(dataset, batch_size=None)`) with chess records decoded by the compiled decoder
(`data.chess_decoder`), streamed piece by piece (a .binpack chunk, a block of .bin records) instead
of whole files, so files of any size work. When there are fewer files than 4 per shard, shards
split files by piece (each worker decodes only its own chunks; a .plain file, one piece, is split
by position).

A batch (dict of tensors, B rows; no board symmetries in chess):
    "us"      int32 [B, 32]  active feature indices of the side to move (0..22527,
                             chess.features), -1 pads a row after its last feature
    "them"    int32 [B, 32]  the same for the other side
    "stm"     int64 [B]      side to move: 0 white, 1 black
    "score"   float32 [B]    search score for the side to move, Stockfish internal units
    "result"  float32 [B]    game result for the side to move: 1 win, 0 draw, -1 loss
    "bucket"  int64 [B]      layer stack, (pieces - 1) // 4, 0..7
    "ply"     int32 [B]      half-moves since the game's start

`position_range=(a, b)` (a held-out share of files too few to hold out whole ones) keeps the
blocks of 256 consecutive positions of a piece (about two games) whose hash falls in [a, b): not
the tail of each file as for Go chunks, since a streamed file's length is unknown up front and a
.binpack from gensfen holds a chunk a game (its tail would be endgames only).

Skip filters (`SkipFilters`, each an option; defaults as nnue-pytorch's trainer: VALUE_NONE
scores, positions in check and positions whose move captures are skipped) are applied before
the shuffle buffer and counted in `dataset.counts` (of this process: with DataLoader workers,
each worker counts its own; `count_filtered` counts files directly).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch

from zeroforge.chess.records import VALUE_NONE, ReadStats
from zeroforge.data.chess_decoder import (
    FLAG_CAPTURE,
    FLAG_IN_CHECK,
    SUFFIXES,
    decoded_runs,
    iter_decoded,
)
from zeroforge.data.files import Records, expand_paths
from zeroforge.data.stream import StreamDataset, concat_arrays
from zeroforge.formats.plain import SUFFIX as PLAIN_SUFFIX

GROUP_POSITIONS = 1 << 14  # decoded positions filtered and pushed at a time
HOLDOUT_BLOCK, HOLDOUT_KEY = 256, 0x7E57  # position_range: blocks of a piece's positions
RECORD = "record"  # the shuffle buffer holds whole decoded records, one field (one copy a row)


@dataclass(frozen=True)
class SkipFilters:
    """Which positions never reach training (nnue-pytorch's defaults)."""

    value_none: bool = True  # score == VALUE_NONE (32002): no search score
    in_check: bool = True  # the side to move is in check
    captures: bool = True  # the move played/searched captures (the position is not quiet)
    min_ply: int = 0  # skip positions before this ply (early, often random, openings)


@dataclass
class FilterCounts:
    """Positions seen and kept, and how many each filter matched (a position can match
    several)."""

    seen: int = 0
    kept: int = 0
    value_none: int = 0
    in_check: int = 0
    captures: int = 0
    early: int = 0

    def add(self, other: FilterCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def keep_mask(records: np.ndarray, filters: SkipFilters, counts: FilterCounts) -> np.ndarray:
    """Which decoded records pass `filters`; counts updated."""
    keep = np.ones(len(records), dtype=bool)
    checks = {
        "value_none": (filters.value_none, records["score"] == VALUE_NONE),
        "in_check": (filters.in_check, (records["flags"] & FLAG_IN_CHECK) != 0),
        "captures": (filters.captures, (records["flags"] & FLAG_CAPTURE) != 0),
        "early": (filters.min_ply > 0, records["ply"] < filters.min_ply),
    }
    for name, (active, matched) in checks.items():
        setattr(counts, name, getattr(counts, name) + np.count_nonzero(matched))
        if active:
            keep &= ~matched
    counts.seen += len(records)
    counts.kept += np.count_nonzero(keep)
    return keep


def count_filtered(paths, filters: SkipFilters = SkipFilters()) -> FilterCounts:
    """What `filters` would keep of the files' positions."""
    counts = FilterCounts()
    for path in expand_paths(paths, SUFFIXES):
        for _, records in iter_decoded(path):
            keep_mask(records, filters, counts)
    return counts


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(key: int, pieces: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per (piece, offset) under `key`, the same however the records
    are grouped or sharded."""
    mixed = _mix(np.uint64(key) ^ _mix((pieces << np.uint64(32)) | offsets))
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def offsets_in_pieces(pieces: np.ndarray, carry: tuple[int, int]):
    """Each record's position in its piece (pieces come in runs), and the carry for the next
    group: (its last piece, that piece's records so far); `carry` is the previous group's."""
    n = len(pieces)
    starts = np.flatnonzero(np.r_[True, pieces[1:] != pieces[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n])).astype(np.uint64)
    offsets = np.arange(n, dtype=np.uint64) - first
    last, before = carry
    if int(pieces[0]) == last:
        offsets[: starts[1] if len(starts) > 1 else n] += np.uint64(before)
    return offsets, (int(pieces[-1]), int(offsets[-1]) + 1)


def make_chess_batch(records: Records) -> dict[str, torch.Tensor]:
    """Shuffle-buffer records of B positions -> the training batch (module docstring)."""
    rows = records[RECORD]
    return {
        "us": torch.from_numpy(rows["us"].astype(np.int32)),
        "them": torch.from_numpy(rows["them"].astype(np.int32)),
        "stm": torch.from_numpy(rows["side"].astype(np.int64)),
        "score": torch.from_numpy(rows["score"].astype(np.float32)),
        "result": torch.from_numpy(rows["result"].astype(np.float32)),
        "bucket": torch.from_numpy((rows["pieces"].astype(np.int64) - 1) // 4),
        "ply": torch.from_numpy(rows["ply"].astype(np.int32)),
    }


class ChessDataset(StreamDataset):
    """NNUE training batches from Stockfish training data (see the module docstring)."""

    def __init__(
        self,
        paths,
        batch_size: int,
        filters: SkipFilters = SkipFilters(),
        skip_bad: bool = False,
        shuffle_buffer: int = 2**18,
        **stream,
    ):
        """`stream`: the `StreamDataset` settings (sample_rate, seed, sharding, ...)."""
        super().__init__(
            expand_paths(paths, SUFFIXES), batch_size, shuffle_buffer=shuffle_buffer, **stream
        )
        if filters.min_ply < 0:
            raise ValueError(f"min_ply must be >= 0, got {filters.min_ply}")
        self.filters, self.skip_bad = filters, skip_bad
        self.counts = FilterCounts()

    def _positions(self, shard: int, shards: int, data_pass: int) -> Iterator[Records]:
        """This shard's kept positions, file by file in this epoch's file order, its pieces
        gathered into groups of GROUP_POSITIONS (small .binpack chunks, e.g. one a game from
        gensfen, would otherwise cost more in numpy calls than in decoding)."""
        epoch = [self.epoch, data_pass]
        order = np.random.default_rng([self.seed, *epoch, 0xF11E]).permutation(len(self.files))
        by_file = self._by_file(shards)
        for turn, index in enumerate(order.tolist()):
            if by_file and turn % shards != shard:
                continue
            path = self.files[index]
            by_position = not by_file and path.endswith(PLAIN_SUFFIX)
            select = None if by_file or by_position else (lambda piece: piece % shards == shard)
            stats = ReadStats()
            key = np.random.default_rng([self.seed, *epoch, index, 0x5A3]).integers(2**63)
            group: list[tuple[np.ndarray, np.ndarray]] = []  # (piece of each record, records)
            size, seen, carry = 0, 0, (-1, 0)
            for pieces, records in decoded_runs(path, self.skip_bad, stats, select):
                group.append((pieces, records))
                size += len(records)
                if size >= GROUP_POSITIONS:
                    carry = yield from self._kept(
                        group, key, seen, carry, by_position, shard, shards
                    )
                    seen, size, group = seen + size, 0, []
            if group:
                yield from self._kept(group, key, seen, carry, by_position, shard, shards)
            if stats.bad_records:
                warnings.warn(
                    f"{stats.bad_records} bad record(s) skipped in {os.path.basename(path)}; "
                    f"first: {stats.errors[0]}",
                    stacklevel=2,
                )

    def _kept(self, group, key: int, seen: int, carry, by_position: bool, shard: int, shards: int):
        """Yield the kept records of a group of runs; returns the carry for the next group."""
        records = concat_arrays([part for _, part in group])
        keep = keep_mask(records, self.filters, self.counts)
        if self.sample_rate < 1 or self.position_range != (0.0, 1.0):
            pieces = np.concatenate([p for p, _ in group]).astype(np.uint64)
            offsets, carry = offsets_in_pieces(pieces, carry)
        if self.sample_rate < 1:  # decided by (file, piece, position in it): not by shard
            keep &= uniform(key, pieces, offsets) < self.sample_rate
        if self.position_range != (0.0, 1.0):  # the same blocks whatever the seed or epoch
            share = uniform(HOLDOUT_KEY, pieces, offsets // np.uint64(HOLDOUT_BLOCK))
            low, high = self.position_range
            keep &= (low <= share) & (share < high)
        if by_position:
            keep &= (seen + np.arange(len(records))) % shards == shard
        if keep.all():
            yield {RECORD: records}
        elif keep.any():
            yield {RECORD: np.compress(keep, records)}  # (8x quicker than records[keep])
        return carry

    def _batch(self, records: Records, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        return make_chess_batch(records)
