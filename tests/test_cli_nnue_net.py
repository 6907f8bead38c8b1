"""`zeroforge nnue export` and `zeroforge nnue check` on a checkpoint, with the real Stockfish."""

from __future__ import annotations

import pytest

from tests.nn.test_sfnnv5_stockfish import trained_like_net
from zeroforge.cli import main
from zeroforge.convert.nnue import quantise
from zeroforge.formats.nnue import read_nnue
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
