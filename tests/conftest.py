"""Shared fixtures (keep this small).

- `lz_weights`: path of a random 2x16 Leela Zero weights file (session-wide; needs torch).
- `leelaz`: a function that starts a real leelaz on `lz_weights` (`--cpu-only -g --noponder`,
  one thread, extra argv appended) and returns a `GTPEngine`; engines are closed at test end.
- `lowercase_tmp`: a temporary directory whose path is lowercase without spaces (leelaz
  lowercases every GTP line, file paths included: docs/ENGINES.md#leelaz).
- `random_positions(n, seed=0, soft=True)`: random but valid `formats.chunks.Positions`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from zeroforge.formats.chunks import Positions
from zeroforge.go.geometry import NUM_MOVES
from zeroforge.play.engines import engine_path
from zeroforge.play.gtp import GTPEngine


@pytest.fixture
def lowercase_tmp():
    path = Path(tempfile.mkdtemp(prefix="zf", dir="/tmp"))
    assert str(path) == str(path).lower() and " " not in str(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def lz_weights(tmp_path_factory) -> Path:
    import torch

    from zeroforge.convert.lzweights import export_net
    from zeroforge.nn.lznet import LZNet

    torch.manual_seed(1234)
    path = Path(tempfile.mkdtemp(prefix="zfweights", dir="/tmp")) / "random-2x16.txt"
    export_net(LZNet(blocks=2, filters=16).eval(), path)
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture
def leelaz(lz_weights):
    engines: list[GTPEngine] = []

    def start(*extra: str) -> GTPEngine:
        argv = [
            engine_path("leelaz"),
            "--cpu-only",
            "-g",
            "--noponder",
            "-q",
            "-t",
            "1",
            "-w",
            str(lz_weights),
            *extra,
        ]
        engines.append(GTPEngine(argv))
        return engines[-1]

    yield start
    for engine in engines:
        engine.close()


def make_positions(n: int, seed: int = 0, soft: bool = True) -> Positions:
    """Random valid positions: sparse stones, one-hot or soft policies, both sides, both winners."""
    rng = np.random.default_rng(seed)
    planes = (rng.random((n, 16, 361)) < 0.15).astype(np.uint8)
    policy = np.zeros((n, NUM_MOVES), dtype=np.float32)
    for i in range(n):
        k = int(rng.integers(1, 30)) if soft else 1
        moves = rng.choice(NUM_MOVES, size=k, replace=False)
        visits = rng.integers(1, 400, size=k).astype(np.float64)
        policy[i, moves] = visits / visits.sum()
    side = rng.integers(0, 2, n).astype(np.uint8)
    winner = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    return Positions(planes, side, policy, winner)


@pytest.fixture
def random_positions():
    return make_positions
