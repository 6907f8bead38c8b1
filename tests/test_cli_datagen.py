"""The data-generation commands through `zeroforge` itself: user errors return 1 with a message
(no traceback), and self-play -> pack -> dataset works end to end with the real engines."""

from __future__ import annotations

import numpy as np
import pytest

from zeroforge.cli import main as zeroforge
from zeroforge.formats.chunks import read_chunk
from zeroforge.formats.shards import read_shard


def test_selfplay_user_errors(tmp_path, capsys):
    weights = tmp_path / "w.txt"
    weights.write_text("1\n")
    base = ["selfplay", "--games", "1", "--out", str(tmp_path / "o")]
    assert zeroforge(base + ["--weights", str(weights)]) == 1
    assert "--playouts or --visits" in capsys.readouterr().err
    assert zeroforge(base + ["--weights", str(tmp_path / "none"), "--visits", "5"]) == 1
    assert "no such weights file" in capsys.readouterr().err
    assert zeroforge(base + ["--weights", str(weights), "--visits", "5", "--komi", "7"]) == 1
    assert "integer" in capsys.readouterr().err
    assert zeroforge(base + ["--weights", str(weights), "--visits", "5", "--workers", "0"]) == 1
    assert not (tmp_path / "o").exists()


def test_sgf2chunks_cli(tmp_path, capsys):
    assert zeroforge(["sgf2chunks", str(tmp_path / "missing.sgf"), "--out", str(tmp_path)]) == 1
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "nine.sgf"
    bad.write_text("(;SZ[9]RE[B+R];B[cc])")
    assert zeroforge(["sgf2chunks", str(bad), "--out", str(tmp_path / "none")]) == 1
    assert "no usable game" in capsys.readouterr().err
    good = tmp_path / "good.sgf"
    good.write_text("(;GM[1]SZ[19]RE[W+1.5];B[pd];W[dp];B[])")
    out = tmp_path / "chunks"
    assert zeroforge(["sgf2chunks", str(good), str(bad), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 games, 3 positions -> 1 chunks" in text and "skipped 1: board size 9" in text
    positions = read_chunk(out / "sgf.0.gz").positions
    assert list(positions.winner) == [-1, 1, -1]


def test_gnugo_games_and_pack_user_errors(tmp_path, capsys):
    assert zeroforge(["gnugo-games", "--games", "0", "--out", str(tmp_path)]) == 1
    assert (
        zeroforge(["gnugo-games", "--games", "1", "--handicap", "1", "--out", str(tmp_path)]) == 1
    )
    assert "--handicap 0 or 2-9" in capsys.readouterr().err
    assert zeroforge(["data", "pack", str(tmp_path), str(tmp_path / "out")]) == 1
    assert "zeroforge data pack:" in capsys.readouterr().err


@pytest.mark.engine
def test_selfplay_pack_dataset_end_to_end(tmp_path, lz_weights, capsys):
    out = tmp_path / "sp"
    argv = ["selfplay", "--weights", str(lz_weights), "--games", "2", "--workers", "2"]
    argv += ["--playouts", "1", "--max-moves", "40", "--score-level", "0", "--seed", "3"]
    assert zeroforge(argv + ["--out", str(out), "--no-progress"]) == 0
    assert "2 games, 80 positions" in capsys.readouterr().out
    assert zeroforge(["data", "pack", str(out), str(tmp_path / "shards")]) == 0
    shard = read_shard(next((tmp_path / "shards").glob("shard-q-*.zfs")))
    assert len(shard) == 80 and shard.q is not None
    assert ((shard.q >= -1) & (shard.q <= 1)).all() and np.isfinite(shard.net_value).all()
