"""The stream of training batches both games share: data files -> sampled, sharded, shuffled
batches. A game's dataset (`data.dataset.GoDataset`, `data.chess_dataset.ChessDataset`)
subclasses `StreamDataset` and says how its files are read and how records make a batch.

`StreamDataset` is an `IterableDataset` that yields whole batches (use
`DataLoader(dataset, batch_size=None)`), so sampling and shuffling are done with numpy over many
positions at once. Records are a dict of equal-length arrays, one row per position (any fields:
rows are counted from whichever comes first). Per epoch (`set_epoch`):

1. the file list gets a fresh shuffled order (the same on every worker and rank);
2. each position is kept with probability `sample_rate` (Leela Zero keeps 1 in 16: neighbouring
   positions of a game are near-duplicates), decided per file from (seed, epoch, file), so the
   decision does not depend on who reads the file;
3. sharding: every kept position goes to exactly one (DataLoader worker x DDP rank): whole
   files when there are many files, otherwise position `j` of each file goes to shard
   `j % shards`;
4. a shuffle buffer of `shuffle_buffer` positions bounds memory: arriving positions replace
   random residents, which leave for batches.

`position_range=(a, b)` keeps only the positions from share `a` to share `b` of every file
(in file order): with too few files to hold out whole ones, training reads (0, 0.95) and
validation (0.95, 1), a held-out tail of each file (neighbouring positions are near-duplicates,
so a tail leaks less than every 20th position would).

A pass that makes no full batch yields its short last one even with `drop_last` (a tiny data
set still trains), except under `batches_per_epoch`, which promises full batches.
Under DDP every rank must run the same number of steps, which a pass over uneven data cannot
promise: `batches_per_epoch=N` makes every rank yield exactly N full batches per epoch (going
round its data again when needed). Call `set_epoch(epoch)` at the start of every epoch (e.g.
in `on_train_epoch_start`): Lightning does not do it for an iterable dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from zeroforge.data.files import Records

FILES_PER_SHARD_FOR_FILE_SHARDING = 4  # fewer files than this per shard: shard by position


def rows(records: Records) -> int:
    """Positions in `records` (every field has one row per position)."""
    return len(next(iter(records.values())))


def take(records: Records, index) -> Records:
    """Rows `index` of every field: a slice gives views; an index array copies, with np.take
    (for structured rows several times faster than fancy indexing)."""
    if isinstance(index, slice):
        return {key: value[index] for key, value in records.items()}
    return {key: np.take(value, index, axis=0) for key, value in records.items()}


def concat_arrays(arrays: list[np.ndarray]) -> np.ndarray:
    """np.concatenate; structured rows are joined as bytes (numpy's structured path is 10x
    slower)."""
    if len(arrays) == 1:
        return arrays[0]
    if arrays[0].dtype.names is None:
        return np.concatenate(arrays)
    joined = np.concatenate([a.reshape(-1).view(np.uint8) for a in arrays])
    return joined.view(arrays[0].dtype).reshape(-1, *arrays[0].shape[1:])


def concat(parts: list[Records]) -> Records:
    if len(parts) == 1:
        return parts[0]
    return {key: concat_arrays([p[key] for p in parts]) for key in parts[0]}


def _rows(array: np.ndarray, start: int, end: int) -> np.ndarray:
    """array[start:end], as bytes for structured rows (numpy copies those field by field,
    10x slower)."""
    part = array[start:end]
    return part if part.dtype.names is None else part.reshape(-1).view(np.uint8)


def _put(store: np.ndarray, slots: np.ndarray, value: np.ndarray) -> None:
    if store.ndim == 1:
        np.put(store, slots, value)  # (for structured rows 10x faster than store[slots] = )
    else:
        store[slots] = value


class ShuffleBuffer:
    """Holds up to `capacity` positions; `push` returns the residents its arrivals displaced
    (random ones), `drain` the rest in random order. Memory is the capacity, not the data."""

    def __init__(self, capacity: int, rng: np.random.Generator):
        if capacity < 1:
            raise ValueError(f"shuffle buffer must hold at least 1 position, got {capacity}")
        self.capacity, self.rng = capacity, rng
        self.store: Records | None = None
        self.size = 0

    def _allocate(self, like: Records) -> None:
        self.store = {
            key: np.empty((self.capacity,) + value.shape[1:], value.dtype)
            for key, value in like.items()
        }

    def push(self, records: Records) -> list[Records]:
        if self.store is None:
            self._allocate(records)
        elif records.keys() != self.store.keys():
            raise ValueError(f"files mix record fields: {sorted(records)} vs {sorted(self.store)}")
        out, n = [], rows(records)
        free = min(self.capacity - self.size, n)
        for key, value in records.items():
            _rows(self.store[key], self.size, self.size + free)[...] = _rows(value, 0, free)
        self.size += free
        start = free
        while start < n:
            part = take(records, slice(start, start + self.capacity))
            k = rows(part)
            slots = self.rng.choice(self.capacity, size=k, replace=False)
            out.append(take(self.store, slots))  # fancy indexing copies
            for key, value in part.items():
                _put(self.store[key], slots, value)
            start += k
        return out

    def drain(self) -> Records | None:
        if not self.size:
            return None
        order = self.rng.permutation(self.size)
        rest = take(self.store, order)
        self.size = 0
        return rest


# ---------------------------------------------------------------------------------------
# The dataset


def _distributed() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


class StreamDataset(IterableDataset):
    """Batches of a game's records from its data files (see the module docstring); a game's
    dataset says how a file is read (`_read` or `_positions`) and how records make a batch
    (`_batch`)."""

    def __init__(
        self,
        paths,
        batch_size: int,
        sample_rate: float = 1.0,
        shuffle_buffer: int = 2**16,
        seed: int = 0,
        world_size: int | None = None,
        rank: int | None = None,
        drop_last: bool = False,
        shard_by: str = "auto",
        batches_per_epoch: int | None = None,
        position_range: tuple[float, float] = (0.0, 1.0),
    ):
        super().__init__()
        self.files = list(paths)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 < sample_rate <= 1:
            raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate}")
        if shard_by not in ("auto", "file", "position"):
            raise ValueError(f"shard_by must be auto, file or position, got {shard_by!r}")
        self.batch_size, self.sample_rate = batch_size, sample_rate
        self.shuffle_buffer, self.seed = shuffle_buffer, seed
        self.drop_last, self.shard_by = drop_last, shard_by
        if batches_per_epoch is not None and batches_per_epoch < 1:
            raise ValueError(f"batches_per_epoch must be >= 1, got {batches_per_epoch}")
        self.batches_per_epoch = batches_per_epoch
        low, high = (float(share) for share in position_range)
        if not 0 <= low < high <= 1:
            raise ValueError(f"position_range must satisfy 0 <= a < b <= 1, got {position_range}")
        self.position_range = (low, high)
        detected_world, detected_rank = _distributed()
        self.world_size = detected_world if world_size is None else world_size
        self.rank = detected_rank if rank is None else rank
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {self.rank} outside world size {self.world_size}")
        # In shared memory: persistent DataLoader workers hold a copy of the dataset made when
        # they started, and read the epoch set later in the main process from here.
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Call before iterating each epoch (e.g. from on_train_epoch_start): new file order,
        sampling, shuffling and symmetries. Seen by persistent workers at their next pass."""
        self._epoch.fill_(epoch)

    def _shard(self) -> tuple[int, int]:
        """(this shard's index, number of shards) over DDP ranks x DataLoader workers."""
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        if info is not None:
            # small-tensor work swings wildly with 2 threads (docs/ENGINES.md#measured-figures)
            torch.set_num_threads(1)
        return self.rank * workers + worker, self.world_size * workers

    def _by_file(self, shards: int) -> bool:
        if self.shard_by != "auto":
            return self.shard_by == "file"
        return len(self.files) >= FILES_PER_SHARD_FOR_FILE_SHARDING * shards

    def _positions(self, shard: int, shards: int, data_pass: int) -> Iterator[Records]:
        """This shard's kept positions, file by file, in this epoch's file order."""
        epoch = [self.epoch, data_pass]
        order = np.random.default_rng([self.seed, *epoch, 0xF11E]).permutation(len(self.files))
        by_file = self._by_file(shards)
        first: tuple[frozenset, str] | None = None
        for turn, index in enumerate(order.tolist()):
            if by_file and turn % shards != shard:
                continue
            path = self.files[index]
            records = self._read(path)
            fields = frozenset(records)
            if first is None:
                first = (fields, path)
            elif fields != first[0]:
                raise ValueError(
                    f"{path} holds the fields {sorted(fields)} but {first[1]} holds "
                    f"{sorted(first[0])}: train on data that all carries q or none of it "
                    "(so too ownership, score and the teacher fields)"
                )
            records = self._in_range(records)
            n = rows(records)
            keep = np.ones(n, dtype=bool)
            if self.sample_rate < 1:
                rng = np.random.default_rng([self.seed, *epoch, index, 0x5A3])
                keep = rng.random(n) < self.sample_rate
            if not by_file:
                keep &= np.arange(n) % shards == shard
            if keep.all():
                yield records
            elif keep.any():
                yield take(records, np.flatnonzero(keep))

    def _in_range(self, records: Records) -> Records:
        if self.position_range == (0.0, 1.0):
            return records
        n = rows(records)
        low, high = (int(share * n) for share in self.position_range)
        return take(records, slice(low, high))

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        shard, shards = self._shard()
        if self.batches_per_epoch is None:
            yield from self._pass(shard, shards, 0, self.drop_last, short_if_alone=True)
            return
        # A fixed number of full batches per rank (what DDP needs): split over this rank's
        # workers, going round the data again (fresh order and symmetries) when it runs out.
        workers, worker = shards // self.world_size, shard % (shards // self.world_size)
        wanted = self.batches_per_epoch // workers + (worker < self.batches_per_epoch % workers)
        made, data_pass = 0, 0
        while made < wanted:
            before = made
            for batch in self._pass(shard, shards, data_pass, drop_last=True):
                yield batch
                made += 1
                if made == wanted:
                    return
            if made == before:
                raise RuntimeError(
                    f"shard {shard} of {shards} gets less than one batch of "
                    f"{self.batch_size} positions: too little data"
                )
            data_pass += 1

    def _pass(
        self, shard: int, shards: int, data_pass: int, drop_last: bool, short_if_alone=False
    ) -> Iterator[dict[str, torch.Tensor]]:
        """One pass over this shard's data: batches out of the shuffle buffer (with
        `short_if_alone`, a short last batch is kept when it is the only one)."""
        rng = np.random.default_rng([self.seed, self.epoch, data_pass, shard, shards, 0xB0F])
        buffer = ShuffleBuffer(self.shuffle_buffer, rng)
        pending: list[Records] = []
        waiting = made = 0
        for records in self._positions(shard, shards, data_pass):
            for out in buffer.push(records):
                pending.append(out)
                waiting += rows(out)
            if waiting >= self.batch_size:
                for batch in self._batches(pending, rng, drop_last, final=False):
                    made += 1
                    yield batch
                waiting = sum(rows(p) for p in pending)
        rest = buffer.drain()
        if rest is not None:
            pending.append(rest)
        for batch in self._batches(pending, rng, drop_last=False, final=True):
            short = rows(batch) < self.batch_size
            if short and drop_last and not (short_if_alone and made == 0):
                continue  # (the last batch: nothing after it depends on the rng it drew)
            made += 1
            yield batch

    def _batches(
        self, pending: list[Records], rng: np.random.Generator, drop_last: bool, final: bool
    ) -> Iterator[dict[str, torch.Tensor]]:
        """Cut full batches from `pending` (in place); at the end also the short last one."""
        if not pending:
            return
        records = concat(pending)
        pending.clear()
        n = rows(records)
        full = n - n % self.batch_size
        for start in range(0, full, self.batch_size):
            yield self._batch(take(records, slice(start, start + self.batch_size)), rng)
        if full < n:
            rest = take(records, slice(full, n))
            if not final:
                pending.append(rest)
            elif not drop_last:
                yield self._batch(rest, rng)

    def _read(self, path: str) -> Records:
        """All records of one file (a game whose files stream piece by piece overrides
        `_positions` instead)."""
        raise NotImplementedError

    def _batch(self, records: Records, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Records of B positions -> the game's training batch (`rng`: augmentation)."""
        raise NotImplementedError


def stream_settings(data: Mapping[str, Any], training: bool) -> dict[str, Any]:
    """The dataset settings every game shares, from a run's `data` config: training samples and
    shuffles as `data` says; validation reads every position, in order, keeping a last partial
    batch."""
    batch = int(data["batch_size"])
    return {
        "batch_size": batch,
        "sample_rate": float(data["sample_rate"]) if training else 1.0,
        "shuffle_buffer": int(data["shuffle_buffer"]) if training else batch,
        "drop_last": training,
    }
