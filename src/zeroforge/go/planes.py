"""The 18 network input planes of Leela Zero.

Planes 0-7: stones of the side to move at t, t-1, ..., t-7; planes 8-15: the opponent's, same
history order (these 16 are what a training chunk stores). Plane 16 is all ones when black is
to move, plane 17 all ones when white is to move.
"""

from __future__ import annotations

import numpy as np

from zeroforge.go.geometry import BOARD_SIZE, NUM_POINTS

HISTORY = 8
STORED_PLANES = 2 * HISTORY  # 16, as in the chunk format
INPUT_PLANES = STORED_PLANES + 2  # 18, the network input
BLACK, WHITE = 0, 1  # side-to-move codes of the chunk format


def input_planes(stored: np.ndarray, side_to_move: np.ndarray) -> np.ndarray:
    """[N,16,361] stone planes (bool/uint8) and [N] side to move -> float32 [N,18,19,19]."""
    stored = np.asarray(stored)
    side_to_move = np.asarray(side_to_move)
    n = stored.shape[0]
    if stored.shape[1:] != (STORED_PLANES, NUM_POINTS):
        raise ValueError(f"stored planes must be [N,16,361], got {list(stored.shape)}")
    out = np.zeros((n, INPUT_PLANES, NUM_POINTS), dtype=np.float32)
    out[:, :STORED_PLANES] = stored
    out[:, STORED_PLANES] = (side_to_move == BLACK)[:, None]
    out[:, STORED_PLANES + 1] = (side_to_move == WHITE)[:, None]
    return out.reshape(n, INPUT_PLANES, BOARD_SIZE, BOARD_SIZE)
