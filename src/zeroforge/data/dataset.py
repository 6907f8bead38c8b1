"""Go's training dataset: Leela Zero chunks and our shards -> augmented batches of input planes,
policy and value targets (`GoDataset`, a `data.stream.StreamDataset`).

Files are read whole by the reader of their kind (`data.files`: Leela Zero text chunks built in;
binary shards with q register their own reader returning the same `Records`, ~2.2 KB a position:
planes bit-packed, policy float32). Each position gets a random one of the 8 board symmetries
(planes, policy and, when the data carries them, the final ownership and the teacher's candidate
moves alike).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from zeroforge.data.files import (  # noqa: F401 (split_files, register_reader: re-exported)
    Records,
    expand_paths,
    file_kind,
    register_reader,
    split_files,
)
from zeroforge.data.stream import StreamDataset, rows, take
from zeroforge.go.geometry import BOARD_SIZE, GATHER, NUM_POINTS, NUM_SYMMETRIES, SYMMETRIES
from zeroforge.go.planes import INPUT_PLANES, STORED_PLANES, WHITE

# ---------------------------------------------------------------------------------------
# Augmentation


def _symmetric_boards(boards: np.ndarray, symmetry: int) -> np.ndarray:
    """[..., 19, 19] boards under `symmetry` (geometry.SYMMETRIES's order: transpose if bit 2,
    then mirror columns if bit 1, then mirror rows if bit 0), as a view."""
    if symmetry & 4:
        boards = boards.swapaxes(-1, -2)
    if symmetry & 2:
        boards = boards[..., ::-1]
    if symmetry & 1:
        boards = boards[..., ::-1, :]
    return boards


def make_batch(records: Records, symmetries: np.ndarray | None) -> dict[str, torch.Tensor]:
    """Records of B positions (+ a symmetry per position, or None) -> the training batch:
    planes uint8 [B,18,19,19], policy float32 [B,362], z float32 [B], and q, ownership float32
    [B,361] and score float32 [B] if present; with the teacher fields, has_teacher and
    teacher_score float32 [B], teacher_moves int64 [B,10] (-1 after the last) and
    teacher_values float32 [B,10].

    With symmetries the rows come out grouped by symmetry (each group is then one strided
    copy); the order inside a batch carries no meaning."""
    n = rows(records)
    if symmetries is not None:
        records = take(records, np.argsort(symmetries, kind="stable"))
        bounds = np.cumsum(np.bincount(symmetries, minlength=NUM_SYMMETRIES)).tolist()
    stones = np.unpackbits(records["planes"], axis=-1, count=NUM_POINTS)
    stones = stones.reshape(n, STORED_PLANES, BOARD_SIZE, BOARD_SIZE)
    planes = np.empty((n, INPUT_PLANES, BOARD_SIZE, BOARD_SIZE), dtype=np.uint8)
    policy = records["policy"]
    ownership = records.get("ownership")
    teacher_moves = records.get("teacher_moves")
    if symmetries is None:
        planes[:, :STORED_PLANES] = stones
    else:
        policy = np.empty_like(policy)
        if ownership is not None:
            ownership = np.empty_like(ownership)
        if teacher_moves is not None:
            teacher_moves = np.empty_like(teacher_moves)
        for s, (start, end) in enumerate(zip([0] + bounds[:-1], bounds, strict=True)):
            if end > start:
                planes[start:end, :STORED_PLANES] = _symmetric_boards(stones[start:end], s)
                np.take(records["policy"][start:end], GATHER[s], axis=1, out=policy[start:end])
                if ownership is not None:  # a board plane: moved as the stones are
                    points = GATHER[s][:NUM_POINTS]
                    np.take(
                        records["ownership"][start:end], points, axis=1, out=ownership[start:end]
                    )
                if teacher_moves is not None:  # move indices: each mapped to its image
                    moves = records["teacher_moves"][start:end]
                    image = SYMMETRIES[s][np.maximum(moves, 0)]
                    teacher_moves[start:end] = np.where(moves >= 0, image, -1)
    white = (records["side_to_move"] == WHITE).astype(np.uint8)[:, None, None]
    planes[:, STORED_PLANES] = 1 - white
    planes[:, STORED_PLANES + 1] = white
    batch = {
        "planes": torch.from_numpy(planes),
        "policy": torch.from_numpy(np.ascontiguousarray(policy, dtype=np.float32)),
        "z": torch.from_numpy(records["winner"].astype(np.float32)),
    }
    for name in ("q", "score", "has_teacher", "teacher_values", "teacher_score"):
        if name in records:
            batch[name] = torch.from_numpy(records[name].astype(np.float32))
    if ownership is not None:
        batch["ownership"] = torch.from_numpy(ownership.astype(np.float32))
    if teacher_moves is not None:
        batch["teacher_moves"] = torch.from_numpy(teacher_moves.astype(np.int64))
    return batch


class GoDataset(StreamDataset):
    """Augmented Go training batches from chunk and shard files (see the module docstring)."""

    def __init__(self, paths, batch_size: int, symmetries: bool = True, **stream):
        """`stream`: the `StreamDataset` settings (sample_rate, seed, sharding, ...)."""
        super().__init__(expand_paths(paths), batch_size, **stream)
        self.symmetries = symmetries

    def _read(self, path: str) -> Records:
        records, bad, errors = file_kind(path).read(path, "skip")
        if errors:
            warnings.warn(f"{bad} bad record(s) skipped; first: {errors[0]}", stacklevel=2)
        return records

    def _batch(self, records: Records, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        n = rows(records)
        symmetries = rng.integers(0, NUM_SYMMETRIES, n) if self.symmetries else None
        return make_batch(records, symmetries)
