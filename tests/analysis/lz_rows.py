"""Random Leela Zero nets as analysis inputs (numpy only, in the file's row layout)."""

from __future__ import annotations

import numpy as np

from zeroforge.analysis.nets import LZTensors, lz_from_rows
from zeroforge.formats.lzweights import row_layout


def random_lz(blocks: int = 2, filters: int = 16, seed: int = 0) -> LZTensors:
    rng = np.random.default_rng(seed)
    rows = []
    for spec in row_layout(blocks, filters):
        if spec.is_variance:
            rows.append(rng.uniform(0.5, 2.0, spec.size).astype(np.float32))
        else:
            rows.append((rng.standard_normal(spec.size) * 0.2).astype(np.float32))
    return lz_from_rows(rows, blocks, filters)


def lz_rows(lz: LZTensors) -> list[np.ndarray]:
    return [lz.tensors[spec.name].ravel() for spec in row_layout(lz.blocks, lz.filters)]
