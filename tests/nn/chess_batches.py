"""SFNNv5 input batches built from python-chess boards (the slow, obviously right way)."""

from __future__ import annotations

import chess
import torch

from zeroforge.chess.features import MAX_ACTIVE, halfka_features, layer_stack_bucket


def board_batch(boards: list[chess.Board]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(side to move's features [B, 32], the other side's [B, 32], layer stack [B]); -1 pads."""

    def padded(perspectives):
        out = torch.full((len(boards), MAX_ACTIVE), -1, dtype=torch.long)
        for row, (board, side) in enumerate(zip(boards, perspectives, strict=True)):
            features = torch.from_numpy(halfka_features(board, side))
            out[row, : len(features)] = features
        return out

    stm = padded([b.turn for b in boards])
    nstm = padded([not b.turn for b in boards])
    return stm, nstm, torch.tensor([layer_stack_bucket(b) for b in boards])
