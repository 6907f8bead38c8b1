"""Benchmarks behind `zeroforge bench`: one module per area, each with `run(quick) -> BenchResult`.

Figures are ratios against a reference measured in the same run, never absolute thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BenchResult:
    figures: dict[str, float] = field(default_factory=dict)  # flat names -> numbers
    markdown: str = ""  # this area's section of docs/PERFORMANCE.md


# Areas in the order `zeroforge bench` runs them; each is zeroforge.bench.<name>.
AREAS: list[str] = [
    "chunks",
    "shards",
    "binpack",
    "selfplay",
    "gnugo",
    "weights",
    "train",
    "nfnet",
    "match",
    "gensfen",
    "nnue",
]
