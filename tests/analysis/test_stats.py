"""Per-tensor statistics and the cached xz sizes."""

from __future__ import annotations

import json
import lzma

import numpy as np
import pytest

from zeroforge.analysis import stats
from zeroforge.analysis.stats import QUANTILES, tensor_stats, xz_sizes


def test_integer_stats_match_numpy():
    rng = np.random.default_rng(0)
    values = rng.normal(0, 30, size=(300, 77)).round().astype(np.int16)
    s = tensor_stats(values, scale=1 / 127)
    flat = values.ravel().astype(np.float64)
    assert s["shape"] == [300, 77] and s["count"] == values.size
    assert s["mean_abs"] == pytest.approx(np.abs(flat).mean())
    assert s["std"] == pytest.approx(flat.std())
    assert s["quantiles"] == list(np.quantile(flat, QUANTILES, method="inverted_cdf"))
    assert s["zero_fraction"] == pytest.approx(np.mean(flat == 0))
    assert s["near_zero_fraction"] == pytest.approx(np.mean(np.abs(flat) <= 1))
    assert s["mean_abs_float"] == pytest.approx(np.abs(flat).mean() / 127)


def test_entropy_of_known_distributions():
    uniform = np.arange(256, dtype=np.int32).repeat(4) - 128
    assert tensor_stats(uniform)["entropy_bits"] == pytest.approx(8.0)
    assert tensor_stats(np.full(10, 7, dtype=np.int8))["entropy_bits"] == 0.0
    two = np.array([0, 0, 0, 1], dtype=np.int8)  # p = 3/4, 1/4
    assert tensor_stats(two)["entropy_bits"] == pytest.approx(0.8112781244591328)
    wide = np.array([-(10**8), 0, 10**8, 10**8], dtype=np.int32)  # np.unique path
    assert tensor_stats(wide)["entropy_bits"] == pytest.approx(1.5)


def test_float_stats():
    values = np.linspace(-1, 1, 1001, dtype=np.float32)
    s = tensor_stats(values)
    assert s["quantiles"][0] == -1 and s["quantiles"][-1] == 1
    assert s["mean_abs"] == pytest.approx(np.abs(values).mean(), rel=1e-6)
    assert s["near_zero_fraction"] == pytest.approx(11 / 1001)  # |w| <= 0.01
    assert 7.5 < s["entropy_bits"] < np.log2(255) + 1e-9


def test_xz_sizes_are_cached_by_file_content(tmp_path, monkeypatch):
    tensors = {"a": np.arange(5000, dtype=np.int16) % 7, "b": np.zeros(3000, np.int8)}
    net = tmp_path / "net.bin"
    net.write_bytes(b"any content")
    cache = tmp_path / "cache"
    sizes = xz_sizes(net, tensors, cache)
    expected = len(lzma.compress(tensors["a"].tobytes(), preset=9 | lzma.PRESET_EXTREME))
    assert sizes["a"] == expected and sizes["b"] < 100
    (cache_file,) = cache.iterdir()
    assert cache_file.name == stats.file_sha256(net) + ".json"
    assert json.loads(cache_file.read_text())["sizes"] == sizes

    def no_compress(values):
        raise AssertionError("should come from the cache")

    monkeypatch.setattr(stats, "xz_size", no_compress)
    assert xz_sizes(net, tensors, cache) == sizes
    net.write_bytes(b"other content")  # new content, new key: computed again
    with pytest.raises(AssertionError, match="cache"):
        xz_sizes(net, tensors, cache)
