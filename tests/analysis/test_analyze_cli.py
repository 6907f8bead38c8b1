"""`zeroforge analyze` end to end: LZ weights, synthetic HalfKP, the real Stockfish net."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from zeroforge.chess.nnue_arch import HALFKP
from zeroforge.cli import main as cli_main
from zeroforge.formats.lzweights import write_weights
from zeroforge.formats.nnue import random_net, write_nnue

from .lz_rows import lz_rows, random_lz


def read_report(out):
    return json.loads((out / "report.json").read_text()), (out / "report.md").read_text()


def test_lz_weights_with_ref(tmp_path):
    lz = random_lz(blocks=2, filters=8, seed=0)
    lz.tensors["input.conv_w"][5] = 0
    lz.tensors["input.conv_b"][5] = -1.0
    write_weights(tmp_path / "a.txt.gz", lz_rows(lz))
    write_weights(tmp_path / "b.txt", lz_rows(random_lz(blocks=2, filters=8, seed=1)))
    out = tmp_path / "rep"
    args = [str(tmp_path / "a.txt.gz"), "--ref", str(tmp_path / "b.txt"), "--out", str(out)]
    assert cli_main(["analyze", *args]) == 0
    (result,), md = read_report(out)
    assert result["kind"] == "lz" and "2 blocks x 8 filters" in result["description"]
    assert result["dead"]["layers"]["input"]["dead"] == [5]
    assert result["tensors"]["input.conv_w"]["shape"] == [8, 18, 3, 3]
    assert 0 <= result["similarity"]["mean_matched_correlation"] < 0.9
    for name in result["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "a.txt.gz_input_filters_diff.png" in result["figures"]
    assert "a.txt.gz_similarity_input.png" in result["figures"]
    assert "- input: dead 5" in md and "### Similarity" in md
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_halfkp_net_against_itself_with_dead_unit(tmp_path):
    net = random_net(HALFKP, seed=2)
    net.ft_weights = np.array(net.ft_weights)
    net.ft_weights[:, 17] = 0
    net.ft_biases[17] = -4
    write_nnue(net, tmp_path / "kp.nnue")
    out = tmp_path / "rep"
    argv = [
        "analyze",
        str(tmp_path / "kp.nnue"),
        "--ref",
        str(tmp_path / "kp.nnue"),
        "--out",
        str(out),
        "--sort-l1",
    ]
    assert cli_main(argv) == 0
    (result,), md = read_report(out)
    assert result["dead"]["never_positive_units"] == [17]
    assert result["similarity"]["mean_matched_correlation"] == pytest.approx(1.0)
    assert "kp.nnue_ft_weights_diff.png" in result["figures"]


@pytest.mark.slow
def test_xz_sizes_in_report(tmp_path):
    write_weights(tmp_path / "n.txt", lz_rows(random_lz(blocks=1, filters=8, seed=3)))
    out, cache = tmp_path / "rep", tmp_path / "cache"
    argv = [
        "analyze",
        str(tmp_path / "n.txt"),
        "--out",
        str(out),
        "--xz",
        "--cache-dir",
        str(cache),
    ]
    assert cli_main(argv) == 0
    (result,), md = read_report(out)
    assert result["xz_bytes_total"] == sum(t["xz_bytes"] for t in result["tensors"].values())
    assert result["tensors"]["input.conv_w"]["xz_bytes"] > 0
    assert "xz bits/w" in md and len(list(cache.iterdir())) == 1


def test_user_errors_return_1(tmp_path, capsys):
    assert cli_main(["analyze", str(tmp_path / "missing.nnue")]) == 1
    assert "missing.nnue: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.nnue"
    bad.write_bytes(b"\x20\x2f\xf3\x7a" + bytes(20))
    assert cli_main(["analyze", str(bad), "--out", str(tmp_path / "o")]) == 1
    assert "bad.nnue: unknown NNUE architecture" in capsys.readouterr().err
    text = tmp_path / "notes.md"
    text.write_text("hello")
    assert cli_main(["analyze", str(text)]) == 1
    assert "neither a Stockfish .nnue file" in capsys.readouterr().err


@pytest.mark.engine
def test_stockfish_15_1_net(sf15_net_path, tmp_path):
    out = tmp_path / "rep"
    assert cli_main(["analyze", str(sf15_net_path), "--out", str(out)]) == 0
    (result,), md = read_report(out)
    assert result["file_bytes"] == 47_001_499
    assert result["tensors"]["ft.weights"]["shape"] == [22528, 1024]
    assert result["dead"]["pairs"] == 512 and result["dead"]["dead_pairs"] == []
    assert sorted(result["figures"]) == [
        "sf15.nnue_ft_weights.png",
        "sf15.nnue_histograms.png",
        "sf15.nnue_unit_norms.png",
    ]
    assert "stack7.fc2.weights" in md


def test_checkpoint_with_killed_channel(tmp_path):
    import torch

    from zeroforge.nn.checkpoint import save_checkpoint
    from zeroforge.nn.lznet import LZNet, randomize_bn_stats

    model = randomize_bn_stats(LZNet(blocks=1, filters=8), seed=1)
    with torch.no_grad():
        model.input.conv.weight[6] = 0
        model.input.bn.bias[6] = -0.5  # engine conv bias = beta * std < 0
        model.input.bn.running_mean[6] = 0.0
    save_checkpoint(model, tmp_path / "net.ckpt")
    out = tmp_path / "rep"
    assert cli_main(["analyze", str(tmp_path / "net.ckpt"), "--out", str(out)]) == 0
    (result,), _ = read_report(out)
    assert result["description"] == "checkpoint, 1 blocks x 8 filters"
    assert result["dead"]["layers"]["input"]["dead"] == [6]
    assert result["tensors"]["tower.0.conv2.conv_w"]["shape"] == [8, 8, 3, 3]


def test_a_random_weights_net_is_analysed_in_bounded_memory(tmp_path):
    """A file's int32 biases may span 2^32 values (random bytes): its histogram must not
    count them one by one (32 GiB); run in a process limited to 2 GiB of address space."""
    script = (
        "import resource, sys, numpy as np\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from zeroforge.analysis.figures import _histogram\n"
        "values = np.array([-(2**31), -5, 0, 0, 7, 2**31 - 1], dtype=np.int32)\n"
        "counts, edges = _histogram(values)\n"
        "assert counts.sum() == 6 and counts[0] == 1 and counts[-1] == 1, counts\n"
        "assert edges[0] == -(2**31) - 0.5 and edges[-1] == 2**31 - 0.5, edges\n"
        "small, _ = _histogram(np.array([-3, -3, 0, 2], dtype=np.int32))\n"
        "assert small.tolist() == [2, 0, 0, 1, 0, 1], small\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_description_of_any_bytes_is_one_printable_line(tmp_path):
    net = random_net(HALFKP, seed=4, description="line one\nline two\x00\x1b[31m red")
    write_nnue(net, tmp_path / "odd.nnue")
    out = tmp_path / "rep"
    assert cli_main(["analyze", str(tmp_path / "odd.nnue"), "--out", str(out)]) == 0
    (result,), md = read_report(out)
    assert result["description"].endswith(r"line one\nline two\x00\x1b[31m red")
    assert "- HalfKP 256x2-32-32: line one\\nline two" in md
