"""Learning-rate schedules as one mechanism: a table of segments keyed to training steps.

A schedule is a list of segments, each `{kind, until, from, to}`: `kind` is `constant`, `linear`
or `cosine`; `until` is where the segment ends, either a step count (`500`) or a share of
`max_steps` (`"75%"`); `from`/`to` are multipliers of the optimiser's base learning rate at the
segment's start and end (`to` defaults to `from`). Segments follow each other; after the last
one the last value holds. Flat, warm-up, Leela-style x0.1 step drops and "flat for 75 %, then
cosine" are presets of this table (conf/schedule/*.yaml), not separate code paths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("constant", "linear", "cosine")


@dataclass(frozen=True)
class Segment:
    kind: str
    end_step: int
    start_value: float
    end_value: float


def parse_until(until: Any, max_steps: int) -> int:
    """A step count (int) or a share of max_steps ("75%") -> a step number."""
    if isinstance(until, str) and until.strip().endswith("%"):
        share = float(until.strip()[:-1]) / 100.0
        return round(share * max_steps)
    if isinstance(until, bool) or not isinstance(until, int):
        raise ValueError(f"schedule: `until` must be a step count or a percentage, got {until!r}")
    return until


def build_segments(table: Iterable[Mapping[str, Any]], max_steps: int) -> list[Segment]:
    """The config table -> validated segments with absolute end steps."""
    segments: list[Segment] = []
    previous_end = 0
    for number, row in enumerate(table):
        kind = row.get("kind", "constant")
        if kind not in KINDS:
            raise ValueError(f"schedule segment {number}: kind {kind!r} not one of {KINDS}")
        if "from" not in row:
            raise ValueError(f"schedule segment {number}: missing `from`")
        end = parse_until(row.get("until", "100%"), max_steps)
        if end < previous_end:
            raise ValueError(f"schedule segment {number}: ends at step {end} before {previous_end}")
        start_value = float(row["from"])
        end_value = float(row.get("to", start_value)) if kind != "constant" else start_value
        segments.append(Segment(kind, end, start_value, end_value))
        previous_end = end
    if not segments:
        raise ValueError("schedule: no segments")
    return segments


def multiplier_at(segments: list[Segment], step: int) -> float:
    """The learning-rate multiplier at `step` (0-based optimiser steps)."""
    start = 0
    for segment in segments:
        if step < segment.end_step:
            span = segment.end_step - start
            t = (step - start) / span
            return _interpolate(segment, t)
        start = segment.end_step
    return segments[-1].end_value


def _interpolate(segment: Segment, t: float) -> float:
    a, b = segment.start_value, segment.end_value
    if segment.kind == "constant":
        return a
    if segment.kind == "linear":
        return a + (b - a) * t
    return b + (a - b) * 0.5 * (1.0 + math.cos(math.pi * t))


class SegmentSchedule:
    """A multiplier function for torch's LambdaLR.

    LambdaLR checkpoints a callable object's `__dict__`; it holds plain tuples only, so a
    checkpoint stays loadable with `torch.load(weights_only=True)`.
    """

    def __init__(self, table: Iterable[Mapping[str, Any]], max_steps: int):
        self.rows = [tuple(vars(s).values()) for s in build_segments(table, max_steps)]

    def __call__(self, step: int) -> float:
        return multiplier_at([Segment(*row) for row in self.rows], step)
