"""Forward pass of an SFNNv5 (Stockfish 15.1) NNUE net for one chess position.

`evaluate` is Stockfish's own integer arithmetic (src/nnue of Stockfish 15.1), so its numbers equal
the engine's: the int16 accumulator (wrapping), the pairwise product clamp(a)*clamp(b)/128 of
transformer units j and j+512, the 8 layer stacks chosen by (pieces - 1) / 4, the squared and
plain clipped ReLUs (shifts 19 and 6), the skip term fc_0[15] * 600*16 / (127*64), C++ division
truncating towards zero, and the result / 16 (OutputScale). `evaluate_float` is the same network
dequantised and computed in floating point the way the trainer sees it; it lands within a few
internal units of the integer pass. Features (HalfKAv2_hm) come from a python-chess board through
zeroforge.chess.features.
"""

from __future__ import annotations

from dataclasses import dataclass

import chess
import numpy as np

from zeroforge.chess.features import halfka_features, layer_stack_bucket
from zeroforge.chess.nnue_arch import (
    FT_SCALE,
    HIDDEN_BIAS_SCALE,
    HIDDEN_WEIGHT_SCALE,
    OUTPUT_BIAS_SCALE,
    OUTPUT_WEIGHT_SCALE,
    PSQT_SCALE,
    SFNNV5,
)
from zeroforge.chess.records import NORMALIZE_TO_PAWN_VALUE
from zeroforge.formats.nnue import NnueNet

OUTPUT_SCALE = 16  # Stockfish nnue_common.h
WEIGHT_SCALE_BITS = 6
SQR_SHIFT = 2 * WEIGHT_SCALE_BITS + 7
CLIP = 127
FC0_OUTPUTS = 15  # fc_0 has 16 outputs; the 16th is the skip connection to the output
SKIP_NUM, SKIP_DEN = 600 * OUTPUT_SCALE, 127 * (1 << WEIGHT_SCALE_BITS)


def cdiv(a: int, b: int) -> int:
    """C++ integer division (truncates towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass
class Evaluation:
    """Internal units, side to move's view; per bucket as Stockfish's `eval` trace shows them."""

    value: int  # (psqt + positional) / 16 of the bucket in use
    bucket: int
    psqt: list[int]  # per bucket, already / 16
    positional: list[int]


def _accumulators(net: NnueNet, board: chess.Board) -> tuple[list[np.ndarray], list[np.ndarray]]:
    accs, psqts = [], []
    for perspective in (board.turn, not board.turn):
        features = halfka_features(board, perspective)
        total = net.ft_biases.astype(np.int32) + net.ft_weights[features].astype(np.int32).sum(0)
        accs.append(total.astype(np.int16))  # wraps like Stockfish's int16 accumulator
        psqts.append(net.psqt_weights[features].astype(np.int64).sum(0))
    return accs, psqts


def _transformed(net: NnueNet, accs: list[np.ndarray]) -> np.ndarray:
    half = net.arch.half_dims // 2
    parts = []
    for acc in accs:
        clipped = np.clip(acc.astype(np.int32), 0, CLIP)
        parts.append(clipped[:half] * clipped[half:] // 128)
    return np.concatenate(parts)


def _stack_int(net: NnueNet, stack: int, transformed: np.ndarray) -> int:
    fc0, fc1, fc2 = net.stacks[stack]
    out0 = fc0.biases.astype(np.int64) + fc0.weights.astype(np.int64) @ transformed
    head = out0[:FC0_OUTPUTS]
    x1 = np.zeros(fc1.weights.shape[1], dtype=np.int64)
    x1[:FC0_OUTPUTS] = np.minimum(CLIP, (head * head) >> SQR_SHIFT)
    x1[FC0_OUTPUTS : 2 * FC0_OUTPUTS] = np.clip(head >> WEIGHT_SCALE_BITS, 0, CLIP)
    out1 = fc1.biases.astype(np.int64) + fc1.weights.astype(np.int64) @ x1
    x2 = np.clip(out1 >> WEIGHT_SCALE_BITS, 0, CLIP)
    out2 = int(fc2.biases[0]) + int(fc2.weights.astype(np.int64)[0] @ x2)
    return out2 + cdiv(int(out0[FC0_OUTPUTS]) * SKIP_NUM, SKIP_DEN)


def _require_sfnnv5(net: NnueNet, board: chess.Board) -> None:
    if net.arch is not SFNNV5:
        raise ValueError(f"forward pass implemented for {SFNNV5.name} only, not {net.arch.name}")
    if board.king(chess.WHITE) is None or board.king(chess.BLACK) is None:
        raise ValueError("position needs both kings")


def evaluate(net: NnueNet, board: chess.Board) -> Evaluation:
    """Stockfish 15.1's NNUE::evaluate(pos, false) and its trace, bit-exact."""
    _require_sfnnv5(net, board)
    accs, psqts = _accumulators(net, board)
    transformed = _transformed(net, accs)
    psqt_cols, positional_cols = [], []
    for stack in range(net.arch.stacks):
        material = cdiv(int(psqts[0][stack] - psqts[1][stack]), 2)
        positional = _stack_int(net, stack, transformed)
        psqt_cols.append(cdiv(material, OUTPUT_SCALE))
        positional_cols.append(cdiv(positional, OUTPUT_SCALE))
    bucket = layer_stack_bucket(board)
    material = cdiv(int(psqts[0][bucket] - psqts[1][bucket]), 2)
    value = cdiv(material + _stack_int(net, bucket, transformed), OUTPUT_SCALE)
    return Evaluation(value, bucket, psqt_cols, positional_cols)


def evaluate_float(net: NnueNet, board: chess.Board) -> float:
    """The dequantised network in float64 (the trainer's view), in internal units."""
    _require_sfnnv5(net, board)
    bucket = layer_stack_bucket(board)
    halves, psqt = [], 0.0
    for sign, perspective in ((1, board.turn), (-1, not board.turn)):
        features = halfka_features(board, perspective)
        acc = (net.ft_biases + net.ft_weights[features].astype(np.float64).sum(0)) / FT_SCALE
        acc = np.clip(acc, 0.0, 1.0)
        half = net.arch.half_dims // 2
        halves.append(acc[:half] * acc[half:] * (FT_SCALE / 128))
        psqt += sign * net.psqt_weights[features, bucket].astype(np.float64).sum() / PSQT_SCALE
    x = np.concatenate(halves)
    fc0, fc1, fc2 = net.stacks[bucket]
    out0 = fc0.biases / HIDDEN_BIAS_SCALE + fc0.weights / HIDDEN_WEIGHT_SCALE @ x
    head = out0[:FC0_OUTPUTS]
    x1 = np.zeros(fc1.weights.shape[1])
    x1[:FC0_OUTPUTS] = np.minimum(1.0, head * head * (FT_SCALE / 128))
    x1[FC0_OUTPUTS : 2 * FC0_OUTPUTS] = np.clip(head, 0.0, 1.0)
    x2 = np.clip(fc1.biases / HIDDEN_BIAS_SCALE + fc1.weights / HIDDEN_WEIGHT_SCALE @ x1, 0, 1)
    out = fc2.biases[0] / OUTPUT_BIAS_SCALE + fc2.weights[0] / OUTPUT_WEIGHT_SCALE @ x2
    return float((psqt / 2 + out + out0[FC0_OUTPUTS]) * PSQT_SCALE / OUTPUT_SCALE)


def to_pawns(value: int) -> float:
    """Internal units -> the pawns Stockfish 15.1 prints."""
    return value / NORMALIZE_TO_PAWN_VALUE


# ---------------------------------------------------------------- batches (teacher labels)
BATCH_ROWS = 4096  # positions per block


def _cdiv_array(a: np.ndarray, b: int) -> np.ndarray:
    """C++ integer division of an int64 array by a positive int (truncates towards zero)."""
    return np.sign(a) * (np.abs(a) // b)


def _accumulator_rows(tables, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accumulators (int16, wrapped as Stockfish's) and PSQT sums of B positions. The sums run
    in floating point, exactly: 32 int16 rows stay far below float32's 2**24, and the PSQT
    (int32 rows) is summed in float64."""
    import torch
    import torch.nn.functional as F

    weights, psqt_weights, biases = tables
    present = torch.from_numpy(features >= 0)
    rows = torch.from_numpy(features.clip(min=0).astype(np.int64))
    sums = [
        F.embedding_bag(rows, table, mode="sum", per_sample_weights=present.to(table.dtype))
        for table in (weights, psqt_weights)
    ]
    acc = sums[0].numpy().astype(np.int64) + biases
    return acc.astype(np.int16), sums[1].numpy().astype(np.int64)


def _evaluate_block(net: NnueNet, tables, us, them, bucket) -> np.ndarray:
    half = net.arch.half_dims // 2
    parts, psqts = [], []
    for features in (us, them):
        acc, psqt = _accumulator_rows(tables, features)
        clipped = np.clip(acc.astype(np.int64), 0, CLIP)
        parts.append(clipped[:, :half] * clipped[:, half:] // 128)
        psqts.append(psqt)
    transformed = np.concatenate(parts, axis=1)
    values = np.zeros(len(bucket), dtype=np.int64)
    for stack in np.unique(bucket):
        rows = np.flatnonzero(bucket == stack)
        fc0, fc1, fc2 = net.stacks[stack]
        out0 = fc0.biases.astype(np.int64) + transformed[rows] @ fc0.weights.T.astype(np.int64)
        head = out0[:, :FC0_OUTPUTS]
        x1 = np.zeros((len(rows), fc1.weights.shape[1]), dtype=np.int64)
        x1[:, :FC0_OUTPUTS] = np.minimum(CLIP, (head * head) >> SQR_SHIFT)
        x1[:, FC0_OUTPUTS : 2 * FC0_OUTPUTS] = np.clip(head >> WEIGHT_SCALE_BITS, 0, CLIP)
        out1 = fc1.biases.astype(np.int64) + x1 @ fc1.weights.T.astype(np.int64)
        x2 = np.clip(out1 >> WEIGHT_SCALE_BITS, 0, CLIP)
        out2 = int(fc2.biases[0]) + x2 @ fc2.weights[0].astype(np.int64)
        positional = out2 + _cdiv_array(out0[:, FC0_OUTPUTS] * SKIP_NUM, SKIP_DEN)
        material = _cdiv_array(psqts[0][rows, stack] - psqts[1][rows, stack], 2)
        values[rows] = _cdiv_array(material + positional, OUTPUT_SCALE)
    return values


def evaluate_features(
    net: NnueNet, us: np.ndarray, them: np.ndarray, bucket: np.ndarray
) -> np.ndarray:
    """`evaluate(...).value` of many positions at once, bit-exact, from their HalfKAv2_hm
    features ([B, K] per perspective, -1 pads; the side to move first, as the compiled decoder
    gives them) and layer stacks [B] -> int64 [B], internal units, side to move's view."""
    if net.arch is not SFNNV5:
        raise ValueError(f"forward pass implemented for {SFNNV5.name} only, not {net.arch.name}")
    import torch

    us, them, bucket = np.asarray(us), np.asarray(them), np.asarray(bucket, dtype=np.int64)
    tables = (
        torch.from_numpy(net.ft_weights.astype(np.float32)),
        torch.from_numpy(net.psqt_weights.astype(np.float64)),
        net.ft_biases.astype(np.int64),
    )
    blocks = [
        _evaluate_block(net, tables, us[i : i + BATCH_ROWS], them[i : i + BATCH_ROWS],
                        bucket[i : i + BATCH_ROWS])
        for i in range(0, len(bucket), BATCH_ROWS)
    ]  # fmt: skip
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
