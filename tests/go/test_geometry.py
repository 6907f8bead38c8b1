import numpy as np
import pytest

from zeroforge.go.geometry import (
    GATHER,
    INVERSE,
    NUM_MOVES,
    PASS,
    SYMMETRIES,
    move_to_vertex,
    transform_moves,
    vertex_to_move,
)
from zeroforge.go.planes import input_planes


def test_vertices():
    assert vertex_to_move("A1") == 0
    assert vertex_to_move("T19") == 360
    assert vertex_to_move("J1") == 8  # I is skipped
    assert vertex_to_move("pass") == PASS
    assert vertex_to_move("q16") == 15 * 19 + 15
    for m in range(NUM_MOVES):
        assert vertex_to_move(move_to_vertex(m)) == m
    for bad in ("I5", "A20", "A0", "Z1", "", "19"):
        with pytest.raises(ValueError):
            vertex_to_move(bad)


def test_symmetries_form_a_group():
    perms = {tuple(t) for t in SYMMETRIES}
    assert len(perms) == 8
    assert np.array_equal(SYMMETRIES[0], np.arange(NUM_MOVES))
    for s in range(8):
        assert SYMMETRIES[s, PASS] == PASS
        assert sorted(SYMMETRIES[s]) == list(range(NUM_MOVES))
        assert np.array_equal(SYMMETRIES[INVERSE[s]][SYMMETRIES[s]], np.arange(NUM_MOVES))
        for t in range(8):
            assert tuple(SYMMETRIES[t][SYMMETRIES[s]]) in perms  # closure


def test_transform_moves_sends_value_to_image():
    values = np.arange(NUM_MOVES, dtype=np.float32)
    for s in range(8):
        out = transform_moves(values, s)
        for m in (0, 5, 100, 360, PASS):
            assert out[SYMMETRIES[s, m]] == values[m]
        back = transform_moves(out, INVERSE[s])
        assert np.array_equal(back, values)
        assert np.array_equal(transform_moves(values[:361], s), out[:361])
    assert GATHER.shape == (8, NUM_MOVES)


def test_symmetry_on_board_is_rotation_or_reflection():
    board = np.arange(361).reshape(19, 19)
    images = {transform_moves(board.reshape(-1), s).reshape(19, 19).tobytes() for s in range(8)}
    expected = set()
    for k in range(4):
        expected.add(np.rot90(board, k).tobytes())
        expected.add(np.rot90(board.T, k).tobytes())
    assert images == expected


def test_input_planes():
    stored = np.zeros((2, 16, 361), dtype=np.uint8)
    stored[0, 0, 3] = 1
    stored[1, 8, 360] = 1
    planes = input_planes(stored, np.array([0, 1]))
    assert planes.shape == (2, 18, 19, 19) and planes.dtype == np.float32
    assert planes[0, 0, 0, 3] == 1 and planes[1, 8, 18, 18] == 1
    assert planes[0, 16].min() == 1 and planes[0, 17].max() == 0
    assert planes[1, 17].min() == 1 and planes[1, 16].max() == 0
