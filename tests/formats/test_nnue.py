"""Reading and writing Stockfish .nnue files: the real 15.1 net, synthetic HalfKP nets, errors."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from tests.analysis.stockfish_net import SF15_NET_BYTES, export_stockfish_net
from zeroforge.chess.nnue_arch import HALFKP, SFNNV5
from zeroforge.formats.nnue import (
    LEB128_MAGIC,
    NnueFormatError,
    nnue_bytes,
    random_net,
    read_nnue,
    write_nnue,
)
from zeroforge.play.engines import have_engine


@pytest.fixture(scope="module")
def sf15_path(tmp_path_factory):
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed")
    return export_stockfish_net(tmp_path_factory.mktemp("sf15"))


@pytest.mark.engine
def test_stockfish_15_1_net_header_and_shapes(sf15_path):
    data = sf15_path.read_bytes()
    assert len(data) == SF15_NET_BYTES
    assert hashlib.sha256(data).hexdigest().startswith("ad9b42354671")
    net = read_nnue(sf15_path)
    assert net.arch is SFNNV5
    assert (net.arch.version, net.arch.header_hash) == (0x7AF32F20, 0x1C102EF2)
    assert "nnue-pytorch" in net.description
    assert net.ft_biases.shape == (1024,) and net.ft_weights.shape == (22528, 1024)
    assert net.psqt_weights.shape == (22528, 8)
    assert len(net.stacks) == 8
    assert [layer.weights.shape for layer in net.stacks[0]] == [(16, 1024), (32, 32), (1, 32)]
    # fc_1 reads 30 inputs padded to 32: the padding columns hold zeros in the file
    assert not any(stack[1].weights[:, 30:].any() for stack in net.stacks)
    assert nnue_bytes(net) == data


def test_halfkp_round_trip(tmp_path):
    net = random_net(HALFKP, seed=3, description="synthetic HalfKP")
    path = tmp_path / "halfkp.nnue"
    write_nnue(net, path)
    assert path.stat().st_size == 12 + 16 + 4 + 512 + 41024 * 512 + 4 + 128 + 16384 + 1152 + 36
    header = struct.unpack_from("<III", path.read_bytes())
    assert header[:2] == (0x7AF32F16, 0x3E5AA6EE)  # the hash every SF 12-13 HalfKP net carries
    back = read_nnue(path)
    assert back.arch is HALFKP and back.description == "synthetic HalfKP"
    assert np.array_equal(back.ft_weights, net.ft_weights)
    assert np.array_equal(back.ft_biases, net.ft_biases)
    for a, b in zip(back.stacks[0], net.stacks[0], strict=True):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
    assert nnue_bytes(back) == path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["halfkp.nnue"]  # no temporary left behind


def test_truncated_and_trailing_bytes_are_refused(tmp_path):
    data = nnue_bytes(random_net(HALFKP, seed=1))
    short, long = tmp_path / "short.nnue", tmp_path / "long.nnue"
    short.write_bytes(data[:-7])
    long.write_bytes(data + b"\0")
    with pytest.raises(
        NnueFormatError, match=r"short\.nnue: truncated at byte \d+ reading stack 0"
    ):
        read_nnue(short)
    with pytest.raises(NnueFormatError, match=r"long\.nnue: 1 trailing bytes"):
        read_nnue(long)


def test_unknown_architecture_and_leb128_are_refused(tmp_path):
    odd = tmp_path / "odd.nnue"
    odd.write_bytes(struct.pack("<III", 0x7AF32F20, 0x12345678, 0) + bytes(64))
    with pytest.raises(NnueFormatError, match=r"odd\.nnue: unknown NNUE architecture"):
        read_nnue(odd)
    leb = tmp_path / "sf16.nnue"
    body = struct.pack("<I", 0x7F234CB8 ^ 0xC00) + LEB128_MAGIC + struct.pack("<I", 4) + bytes(4)
    leb.write_bytes(struct.pack("<III", 0x7AF32F20, 0x1C27F8A5, 4) + b"text" + body)
    with pytest.raises(NnueFormatError, match=r"sf16\.nnue: LEB128-compressed .*Stockfish 16"):
        read_nnue(leb)


def test_bad_hash_inside_is_refused(tmp_path):
    data = bytearray(nnue_bytes(random_net(HALFKP, seed=2)))
    at = 12 + len("random")
    data[at : at + 4] = b"\0\0\0\0"
    path = tmp_path / "badhash.nnue"
    path.write_bytes(bytes(data))
    with pytest.raises(NnueFormatError, match=r"feature transformer hash 0x00000000 at byte 18"):
        read_nnue(path)


def test_write_checks_shapes(tmp_path):
    net = random_net(HALFKP, seed=0)
    net.ft_biases = net.ft_biases[:10]
    with pytest.raises(ValueError, match="ft_biases"):
        write_nnue(net, tmp_path / "x.nnue")
