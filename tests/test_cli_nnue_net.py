"""`zeroforge nnue export` and `zeroforge nnue check` on a checkpoint, with the real Stockfish."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from tests.nn.test_sfnnv5_stockfish import trained_like_net
from zeroforge.chess.nnue_arch import HALFKP, SFNNV5
from zeroforge.cli import main
from zeroforge.convert.nnue import quantise
from zeroforge.formats.nnue import padded, random_net, read_nnue, write_nnue
from zeroforge.nn.checkpoint import save_checkpoint
from zeroforge.play.engines import have_engine

SAMPLE = "data/sample/chess/sf15-d6.binpack"


@pytest.mark.engine
def test_export_a_checkpoint_and_check_it(lowercase_tmp, capsys):
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    net = trained_like_net(seed=3)
    save_checkpoint(net, lowercase_tmp / "net.ckpt")
    out = lowercase_tmp / "net.nnue"
    argv = ["nnue", "export", str(lowercase_tmp / "net.ckpt"), str(out), "--check"]
    assert main([*argv, "--positions", "40", "--data", SAMPLE]) == 0
    printed = capsys.readouterr().out
    assert "float vs quantised on 40 positions" in printed
    assert "stockfish eval == zeroforge on 40/40 positions" in printed
    exported = read_nnue(out)
    assert exported.ft_weights.tobytes() == quantise(net).ft_weights.tobytes()
    assert main(["nnue", "check", str(out), "--positions", "10"]) == 0


def test_errors_name_the_file(tmp_path, capsys):
    assert main(["nnue", "check", str(tmp_path / "missing.nnue")]) == 1
    assert "missing.nnue: no such file" in capsys.readouterr().err
    assert main(["nnue", "export", str(tmp_path / "missing.ckpt"), str(tmp_path / "x.nnue")]) == 1
    assert "missing.ckpt" in capsys.readouterr().err


def random_bytes_sfnnv5(path) -> None:
    """An SFNNv5 file of the right layout whose description and weights are random bytes."""
    rng = np.random.default_rng(5)
    text = rng.bytes(40)  # not UTF-8
    parts = [struct.pack("<III", SFNNV5.version, SFNNV5.header_hash, len(text)), text]
    parts += [struct.pack("<I", SFNNV5.ft_hash)]
    ft = SFNNV5.half_dims * (1 + SFNNV5.features) * 2 + SFNNV5.features * SFNNV5.psqt_buckets * 4
    parts.append(rng.bytes(ft))
    for _ in range(SFNNV5.stacks):
        parts.append(struct.pack("<I", SFNNV5.network_hash))
        parts += [rng.bytes(4 * out + out * padded(fan_in)) for fan_in, out in SFNNV5.layers]
    path.write_bytes(b"".join(parts))


def test_check_refuses_a_halfkp_net_by_name(tmp_path, capsys):
    write_nnue(random_net(HALFKP), tmp_path / "kp.nnue")
    assert main(["nnue", "check", str(tmp_path / "kp.nnue"), "--positions", "2"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"zeroforge nnue check: {tmp_path / 'kp.nnue'}: ")
    assert "Stockfish 15.1" in err[0] and "HalfKP" in err[0]


@pytest.mark.engine
def test_check_a_net_of_random_bytes(lowercase_tmp, capsys):
    """Stockfish loads it (its description is not UTF-8) but cannot print its eval table
    (values of 1,000 pawns and more): the check reports, naming the file, no traceback."""
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    path = lowercase_tmp / "random.nnue"
    random_bytes_sfnnv5(path)
    assert read_nnue(path).arch is SFNNV5
    assert main(["nnue", "check", str(path), "--positions", "3"]) in (0, 1)
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: stockfish eval == zeroforge on ")
    assert "3 position(s) compared on the value and bucket only" in out
