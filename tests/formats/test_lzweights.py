import gzip
import os

import numpy as np
import pytest
import torch

from zeroforge.convert.lzweights import export_net, load_net, net_to_rows, rows_to_net
from zeroforge.formats.lzweights import (
    WeightsError,
    parameter_count,
    read_weights,
    row_layout,
    write_weights,
)
from zeroforge.nn.lznet import LZNet, randomize_bn_stats


def small_net(affine_gamma: bool = False, seed: int = 1) -> LZNet:
    torch.manual_seed(seed)
    return randomize_bn_stats(LZNet(2, 8, affine_gamma=affine_gamma), seed=seed).eval()


def planes(n: int = 4) -> torch.Tensor:
    return (torch.rand(n, 18, 19, 19, generator=torch.Generator().manual_seed(9)) < 0.3).float()


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("name", ["w.txt", "w.gz"])
def test_write_read_round_trip(tmp_path, name):
    net = small_net()
    rows = net_to_rows(net)
    write_weights(tmp_path / name, rows)
    weights = read_weights(tmp_path / name)
    assert (weights.blocks, weights.filters, weights.version) == (2, 8, 1)
    assert weights.parameter_count == parameter_count(2, 8) == sum(r.size for r in rows)
    for a, b in zip(rows, weights.rows, strict=True):
        assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)
    if name.endswith(".gz"):
        assert gzip.open(tmp_path / name).readline() == b"1\n"
    assert weights.row_name(0) == "input.conv_w [8, 18, 3, 3]"
    assert weights.row_name(7) == "tower.0.conv1.bn_var [8]"
    assert os.listdir(tmp_path) == [name]


def test_layout_matches_the_engines_row_count():
    for blocks in (0, 1, 6, 20):
        assert len(row_layout(blocks, 8)) == 4 + 8 * blocks + 14


@pytest.mark.parametrize("affine_gamma", [False, True])
def test_export_import_preserves_outputs_and_rows(tmp_path, affine_gamma):
    net = small_net(affine_gamma)
    if affine_gamma:
        with torch.no_grad():
            for m in net.modules():
                if hasattr(m, "running_var"):
                    m.weight.uniform_(-1.5, 1.5)  # negative gammas fold too
    export_net(net, tmp_path / "w.txt")
    loaded = load_net(tmp_path / "w.txt")
    assert not loaded.training
    with torch.no_grad():
        (pa, va), (pb, vb) = net(planes()), loaded(planes())
    assert torch.allclose(pa, pb, atol=2e-5) and torch.allclose(va, vb, atol=2e-6)
    # import then export: the very same numbers (biases reproduced bit for bit)
    again = net_to_rows(loaded)
    for a, b in zip(read_weights(tmp_path / "w.txt").rows, again, strict=True):
        assert np.array_equal(a, b)


def test_bias_is_beta_times_sqrt_var_plus_eps():
    net = small_net()
    bn = net.input.bn
    rows = net_to_rows(net)
    beta, var = bn.bias.detach().double(), bn.running_var.double()
    expected = (beta * (var + 1e-5).sqrt()).float().numpy()
    assert np.array_equal(rows[1], expected)
    assert np.array_equal(rows[2], bn.running_mean.numpy())
    assert np.array_equal(rows[3], bn.running_var.numpy())
    beta = rows_to_net(read_weights_from_rows(rows)).input.bn.bias.detach()
    assert torch.allclose(beta, bn.bias, rtol=1e-6)


def read_weights_from_rows(rows):
    from zeroforge.formats.lzweights import LZWeights

    return LZWeights(blocks=2, filters=8, version=1, rows=rows)


def test_writer_refuses_what_the_reader_would(tmp_path):
    rows = net_to_rows(small_net())
    bad = [r.copy() for r in rows]
    bad[3][0] = 0.0  # a variance
    with pytest.raises(ValueError, match="input.bn_var"):
        write_weights(tmp_path / "w.txt", bad)
    bad = [r.copy() for r in rows]
    bad[8][5] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        write_weights(tmp_path / "w.txt", bad)
    with pytest.raises(ValueError, match="expected 1 values, got 2"):
        write_weights(tmp_path / "w.txt", rows[:-1] + [np.zeros(2, np.float32)])
    assert not os.listdir(tmp_path)


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.txt"
    write_weights(path, net_to_rows(small_net(seed=1)))
    before = path.read_bytes()
    import zeroforge.formats.lzweights as lw

    def broken(values):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lw, "format_row", broken)
    with pytest.raises(RuntimeError):
        write_weights(path, net_to_rows(small_net(seed=2)))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.txt"]


# ---------------------------------------------------------------- malformed files


@pytest.fixture
def good_lines(tmp_path):
    write_weights(tmp_path / "good.txt", net_to_rows(small_net()))
    return (tmp_path / "good.txt").read_text().splitlines()


def _write(tmp_path, lines, name="bad.txt"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _drop_one(line: str) -> str:
    return line.rsplit(" ", 1)[0]


MALFORMED = {
    "elf version 2": (lambda L: ["2"] + L[1:], r"line 1: version 2 \(ELF"),
    "unknown version": (lambda L: ["3"] + L[1:], r"line 1: expected version `1`, got '3'"),
    "missing row": (lambda L: L[:-1], r"17 \+ 8|rows missing or extra"),
    "extra row": (lambda L: L + ["0"], r"rows missing or extra"),
    "short tower row": (
        lambda L: L[:9] + [_drop_one(L[9])] + L[10:],
        r"line 10 should hold tower.0.conv2.conv_w \[8, 8, 3, 3\]: expected 576 values, got 575",
    ),
    "long head row": (
        lambda L: L[:-1] + [L[-1] + " 0.5"],
        r"line 35 should hold value.fc2_b \[1\]: expected 1 values, got 2",
    ),
    "input conv disagrees with filters": (
        lambda L: [L[0], _drop_one(L[1])] + L[2:],
        r"line 2 should hold input.conv_w \[8, 18, 3, 3\]: expected 1296 values, got 1295",
    ),
    "not a number": (
        lambda L: L[:5] + [L[5].replace(" ", " x1.5 ", 1)] + L[6:],
        r"line 6 \(tower.0.conv1.conv_w .*\): value 2 is not a number: 'x1.5'",
    ),
    "not a number in place of one": (
        lambda L: L[:2] + [L[2].split(" ", 1)[0] + " abc " + L[2].split(" ", 2)[2]] + L[3:],
        r"line 3 \(input.conv_b \[8\]\): value 2 is not a number: 'abc'",
    ),
    "nan": (
        lambda L: L[:2] + ["nan " + L[2].split(" ", 1)[1]] + L[3:],
        r"line 3 \(input.conv_b \[8\]\): value 1 is nan \(not finite\)",
    ),
    "infinite": (
        lambda L: L[:30] + ["inf"] + L[31:],
        r"line 31 \(value.bn_var \[1\]\): value 1 is inf \(not finite\)",
    ),
    "zero variance": (
        lambda L: L[:4] + ["0 " + L[4].split(" ", 1)[1]] + L[5:],
        r"line 5 \(input.bn_var \[8\]\): value 1 is 0.0; batch-norm variances must be > 0",
    ),
    "negative variance": (
        lambda L: L[:12] + [L[12].split(" ", 1)[0] + " -0.5 " + L[12].split(" ", 2)[2]] + L[13:],
        r"line 13 \(tower.0.conv2.bn_var \[8\]\): value 2 is -0.5; batch-norm variances",
    ),
    "empty": (lambda L: [], r"empty file"),
    "empty filter line": (lambda L: L[:2] + [""] + L[3:], r"line 3 \(input.conv_b.*empty"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_files_name_line_tensor_and_counts(tmp_path, good_lines, kind):
    mutate, message = MALFORMED[kind]
    lines = mutate(list(good_lines))
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(WeightsError, match=message) as info:
        read_weights(path)
    assert str(path) in str(info.value)
    with gzip.open(tmp_path / "bad.gz", "wt", compresslevel=1) as f:  # the same, gzipped
        f.write(path.read_text())
    with pytest.raises(WeightsError, match=message):
        read_weights(tmp_path / "bad.gz")


def test_unreadable_files(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        read_weights(tmp_path / "missing.txt")
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(WeightsError, match="broken.gz: cannot read"):
        read_weights(tmp_path / "broken.gz")


def test_other_spacing_and_precision_still_reads(tmp_path, good_lines):
    # files from other writers: 6 digits, runs of spaces, trailing spaces, CRLF
    rows = read_weights(_write(tmp_path, good_lines, "good.txt")).rows
    lines = ["1"] + ["  ".join(f"{v:.6g}" for v in row) + " " for row in rows]
    path = tmp_path / "other.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    weights = read_weights(path)
    for a, b in zip(rows, weights.rows, strict=True):
        assert np.allclose(a, b, rtol=1e-5)


def test_channels_last_and_bfloat16_nets_export_the_same_rows():
    import copy

    net = small_net()
    same = copy.deepcopy(net).to(memory_format=torch.channels_last)
    assert not same.input.conv.weight.is_contiguous()
    for a, b in zip(net_to_rows(net), net_to_rows(same), strict=True):
        assert np.array_equal(a, b)
    half = copy.deepcopy(net).to(torch.bfloat16)
    rows = net_to_rows(half)
    assert all(r.dtype == np.float32 for r in rows)
    assert np.allclose(rows[0], net_to_rows(net)[0], rtol=1e-2, atol=1e-3)


def _strtof(token: bytes) -> np.float32:
    """The C library's strtof: how leelaz (`std::istream >> float`) reads a number."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.strtof.restype = ctypes.c_float
    libc.strtof.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    return np.float32(libc.strtof(token, None))


def test_long_decimals_round_like_strtof_not_twice(tmp_path):
    """Text -> float64 -> float32 rounds twice; near a float32 midpoint that can differ from
    strtof by one ulp. Build such decimals (midpoints nudged by 1e-40 either way, or exact)
    and check a file's row reads as strtof reads it."""
    from fractions import Fraction

    rng = np.random.default_rng(7)
    low = (rng.standard_normal(300) * 0.1).astype(np.float32)
    high = np.nextafter(low, np.float32(np.inf))
    pairs = zip(low.tolist(), high.tolist(), strict=True)
    middles = [(Fraction(a) + Fraction(b)) / 2 for a, b in pairs]
    nudges = [Fraction((-1) ** k * (k % 5 != 0), 10**40) for k in range(len(middles))]
    tokens = [_decimal(m + n).encode() for m, n in zip(middles, nudges, strict=True)]
    assert all(Fraction(float(t)) == m for t, m in zip(tokens, middles, strict=True))
    expected = np.array([_strtof(t) for t in tokens], np.float32)
    twice = np.array([float(t) for t in tokens]).astype(np.float32)
    assert (expected != twice).sum() > 50  # the case exists, and often
    rows = net_to_rows(small_net())
    write_weights(tmp_path / "w.txt", rows)
    lines = (tmp_path / "w.txt").read_bytes().split(b"\n")
    values = lines[25].split(b" ")  # policy.fc_w
    values[: len(tokens)] = tokens
    lines[25] = b" ".join(values)
    (tmp_path / "w.txt").write_bytes(b"\n".join(lines))
    got = read_weights(tmp_path / "w.txt").rows[24][: len(tokens)]
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))
    lines[25] = b"  ".join(values)  # the slow path (odd spacing) too
    (tmp_path / "w.txt").write_bytes(b"\n".join(lines))
    got = read_weights(tmp_path / "w.txt").rows[24][: len(tokens)]
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def _decimal(value) -> str:
    """Exact decimal text of a Fraction whose denominator is a power of 2 and 10."""
    from fractions import Fraction

    value = Fraction(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    digits = 0
    while value.denominator != 1:
        value *= 10
        digits += 1
    text = str(value.numerator).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}" if digits else sign + text
