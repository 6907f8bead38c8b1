"""Per-tensor statistics: shape, mean |w|, quantiles, zeros, order-0 entropy, xz-compressed size.

Integer tensors (NNUE) are summarised from their exact value histogram (bincount), which is
fast on the 23M transformer weights and gives exact quantiles. Float tensors (LZ) use numpy
quantiles; their entropy is measured after uniform quantisation to FLOAT_LEVELS levels over
[-max|w|, max|w|] (a float32 tensor has nearly all values distinct, so its raw entropy says
nothing). "Near zero" is |w| <= 1 quantisation step for integers and |w| <= NEAR_ZERO_REL *
max|w| for floats. The LZMA size (preset 9 | PRESET_EXTREME, as `xz -9e`) of the tensor's
little-endian bytes is slow (~100 s for a 47 MB net) and cached per file content (sha256).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
from pathlib import Path

import numpy as np

from zeroforge.atomic import atomic_write_bytes

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0)
FLOAT_LEVELS = 255
NEAR_ZERO_REL = 0.01
BINCOUNT_MAX_RANGE = 1 << 22  # wider integer ranges fall back to np.unique
XZ_PRESET = 9 | lzma.PRESET_EXTREME
XZ_CACHE_VERSION = 1


def _entropy_bits(counts: np.ndarray) -> float:
    counts = counts[counts > 0].astype(np.float64)
    p = counts / counts.sum()
    return max(0.0, float(-(p * np.log2(p)).sum()))


def _value_histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values ascending, counts) of an integer tensor."""
    flat = values.ravel()
    low, high = int(flat.min()), int(flat.max())
    if high - low < BINCOUNT_MAX_RANGE:
        counts = np.bincount((flat.astype(np.int64) - low), minlength=high - low + 1)
        keep = counts > 0
        return np.arange(low, high + 1)[keep], counts[keep]
    return np.unique(flat, return_counts=True)


def _integer_stats(values: np.ndarray) -> dict:
    levels, counts = _value_histogram(values)
    n = counts.sum()
    weights = counts / n
    cumulative = np.cumsum(counts)
    # the lower quantile convention ("inverted_cdf"): the smallest value with CDF >= q
    targets = np.maximum(1, np.ceil(np.array(QUANTILES) * n)).astype(np.int64)
    quantiles = levels[np.searchsorted(cumulative, targets)]
    mean = float((levels * weights).sum())
    return {
        "mean": mean,
        "std": float(np.sqrt(((levels - mean) ** 2 * weights).sum())),
        "mean_abs": float((np.abs(levels) * weights).sum()),
        "quantiles": [float(q) for q in quantiles],
        "zero_fraction": float(counts[levels == 0].sum() / n),
        "near_zero_fraction": float(counts[np.abs(levels) <= 1].sum() / n),
        "near_zero_rule": "|w| <= 1 step",
        "entropy_bits": _entropy_bits(counts),
        "distinct_values": int(levels.size),
    }


def _float_stats(values: np.ndarray) -> dict:
    flat = values.ravel().astype(np.float64)
    peak = float(np.abs(flat).max()) if flat.size else 0.0
    if peak > 0:
        levels = np.rint(flat / peak * (FLOAT_LEVELS // 2)).astype(np.int64)
        entropy = _entropy_bits(np.bincount(levels + FLOAT_LEVELS // 2))
    else:
        entropy = 0.0
    return {
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "mean_abs": float(np.abs(flat).mean()),
        "quantiles": [float(q) for q in np.quantile(flat, QUANTILES)],
        "zero_fraction": float(np.count_nonzero(flat == 0) / flat.size),
        "near_zero_fraction": float(
            np.count_nonzero(np.abs(flat) <= NEAR_ZERO_REL * peak) / flat.size
        ),
        "near_zero_rule": f"|w| <= {NEAR_ZERO_REL} * max|w|",
        "entropy_bits": entropy,
        "entropy_rule": f"after quantisation to {FLOAT_LEVELS} levels",
    }


def tensor_stats(values: np.ndarray, scale: float | None = None) -> dict:
    """Statistics of one tensor; `scale` (float value of one step) marks a quantised tensor."""
    integer = np.issubdtype(values.dtype, np.integer)
    out = {"shape": list(values.shape), "count": int(values.size), "dtype": str(values.dtype)}
    out.update(_integer_stats(values) if integer else _float_stats(values))
    if integer and scale is not None:
        out["scale"] = scale
        out["mean_abs_float"] = out["mean_abs"] * scale
    return out


def all_stats(tensors: dict[str, np.ndarray], scales: dict[str, float]) -> dict[str, dict]:
    return {name: tensor_stats(values, scales.get(name)) for name, values in tensors.items()}


# ---------------------------------------------------------------- xz (LZMA) sizes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "zeroforge" / "xz"


def xz_size(values: np.ndarray) -> int:
    data = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes()
    return len(lzma.compress(data, preset=XZ_PRESET))


def xz_sizes(
    path: Path, tensors: dict[str, np.ndarray], cache_dir: Path | None = None, progress=None
) -> dict[str, int]:
    """LZMA-9e size per tensor, cached in `cache_dir`/<sha256 of the file>.json."""
    cache_file = (cache_dir or default_cache_dir()) / f"{file_sha256(path)}.json"
    cached: dict = {}
    if cache_file.is_file():
        try:
            cached = json.loads(cache_file.read_text())
        except ValueError:
            cached = {}
    sizes = cached.get("sizes", {}) if cached.get("version") == XZ_CACHE_VERSION else {}
    missing = [name for name in tensors if name not in sizes]
    for name in missing:
        sizes[name] = xz_size(tensors[name])
        if progress is not None:
            progress(name)
    if missing:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": XZ_CACHE_VERSION, "file": str(path), "sizes": sizes}
        atomic_write_bytes(cache_file, json.dumps(payload, indent=1).encode())
    return {name: sizes[name] for name in tensors}
