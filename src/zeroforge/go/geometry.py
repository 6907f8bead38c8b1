"""19x19 board geometry: point indices, GTP vertices and the 8 board symmetries.

A move index is `row * 19 + col` with row 0 = rank 1 and col 0 = column A (GTP letters skip I);
index 361 is pass. This is Leela Zero's training-data order (docs/ENGINES.md#leela-zero-training-chunks).
"""

from __future__ import annotations

import numpy as np

BOARD_SIZE = 19
NUM_POINTS = BOARD_SIZE * BOARD_SIZE  # 361
PASS = NUM_POINTS  # move index of pass
NUM_MOVES = NUM_POINTS + 1  # 362: every point, then pass
GTP_LETTERS = "ABCDEFGHJKLMNOPQRST"  # no I
NUM_SYMMETRIES = 8


def move_to_vertex(move: int) -> str:
    """Move index -> GTP vertex (`Q16`, `pass`)."""
    if move == PASS:
        return "pass"
    if not 0 <= move < NUM_POINTS:
        raise ValueError(f"move index {move} outside 0..{PASS}")
    row, col = divmod(move, BOARD_SIZE)
    return f"{GTP_LETTERS[col]}{row + 1}"


def vertex_to_move(vertex: str) -> int:
    """GTP vertex (case-insensitive, `pass` allowed) -> move index."""
    text = vertex.strip().upper()
    if text == "PASS":
        return PASS
    if len(text) < 2 or text[0] not in GTP_LETTERS or not text[1:].isdigit():
        raise ValueError(f"not a 19x19 GTP vertex: {vertex!r}")
    col, row = GTP_LETTERS.index(text[0]), int(text[1:]) - 1
    if not 0 <= row < BOARD_SIZE:
        raise ValueError(f"not a 19x19 GTP vertex: {vertex!r}")
    return row * BOARD_SIZE + col


def _symmetry_table() -> np.ndarray:
    """SYMMETRIES[s, m] = image of move m under symmetry s (pass fixed).

    Bit 2 of s transposes, bit 1 mirrors columns, bit 0 mirrors rows (Leela Zero's order,
    applied in that sequence); s = 0 is the identity.
    """
    table = np.empty((NUM_SYMMETRIES, NUM_MOVES), dtype=np.int64)
    rows, cols = np.divmod(np.arange(NUM_POINTS), BOARD_SIZE)
    last = BOARD_SIZE - 1
    for s in range(NUM_SYMMETRIES):
        r, c = rows.copy(), cols.copy()
        if s & 4:
            r, c = c, r
        if s & 2:
            c = last - c
        if s & 1:
            r = last - r
        table[s, :NUM_POINTS] = r * BOARD_SIZE + c
        table[s, PASS] = PASS
    return table


SYMMETRIES = _symmetry_table()
# GATHER[s][q] = the move whose image under s is q: `values[..., GATHER[s]]` moves the value
# at m to SYMMETRIES[s, m]. Works for any trailing axis of 362 moves (or 361 points).
GATHER = np.argsort(SYMMETRIES, axis=1)


def _inverse_index() -> np.ndarray:
    """INVERSE[s] = t such that symmetry t undoes symmetry s."""
    ident = np.arange(NUM_MOVES)
    inv = np.empty(NUM_SYMMETRIES, dtype=np.int64)
    for s in range(NUM_SYMMETRIES):
        for t in range(NUM_SYMMETRIES):
            if np.array_equal(SYMMETRIES[t][SYMMETRIES[s]], ident):
                inv[s] = t
    return inv


INVERSE = _inverse_index()


def transform_moves(values: np.ndarray, symmetry: int) -> np.ndarray:
    """Apply a symmetry to an array whose last axis is 362 moves or 361 points."""
    n = values.shape[-1]
    if n not in (NUM_MOVES, NUM_POINTS):
        raise ValueError(f"last axis must be {NUM_MOVES} or {NUM_POINTS}, got {n}")
    return values[..., GATHER[symmetry][:n]]
