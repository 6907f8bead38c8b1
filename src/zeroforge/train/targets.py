"""Training targets: the value target blending the game result z with the search value q, and the
scheduled coefficients (q_ratio, the distillation weight alpha) that decide the blend; and the
soft targets made from an engine's judgement that the data carries (`TeacherTargets`).

value target = (1 - q_ratio) * z + q_ratio * q, with z in {-1, 1} (did the side to move win) and
q in [-1, 1] (the search's value for the side to move): from the data (self-play shards carry
it) or from the teachers' value head (`value.q_source: teacher`). A coefficient is either a number
or a table of segments read by the LR schedule's mechanism (`train.schedules`), e.g.
`[{kind: linear, until: 2000, from: 1.0, to: 0.0}]` decays from 1 to 0 by step 2000, then holds 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from zeroforge.formats.shards import TEACHER_FIELDS
from zeroforge.train import losses
from zeroforge.train.schedules import Segment, build_segments, multiplier_at

Q_SOURCES = ("data", "teacher")


class MissingQError(ValueError):
    """The config blends in q but a batch of the data has none."""


class Coefficient:
    """A weight in [0, 1] that may change with the training step: a constant or a segment table."""

    def __init__(self, spec: Any, max_steps: int, name: str):
        self.name = name
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            self.segments = [Segment("constant", 0, float(spec), float(spec))]
        elif isinstance(spec, Sequence) and not isinstance(spec, str):
            try:
                self.segments = build_segments(spec, max_steps)
            except (ValueError, AttributeError, TypeError) as error:
                raise ValueError(f"{name}: {error}") from None
        else:
            raise ValueError(f"{name}: a number or a list of schedule segments, got {spec!r}")
        values = [v for s in self.segments for v in (s.start_value, s.end_value)]
        if not all(0.0 <= v <= 1.0 for v in values):
            raise ValueError(f"{name}: values must lie in [0, 1], got {spec!r}")

    def __call__(self, step: int) -> float:
        return multiplier_at(self.segments, step)

    def ever_nonzero(self) -> bool:
        """Whether any step of the schedule gives a non-zero value."""
        return any(s.start_value != 0.0 or s.end_value != 0.0 for s in self.segments)


def blend_value(z: torch.Tensor, q: torch.Tensor, q_ratio: float) -> torch.Tensor:
    """(1 - q_ratio) * z + q_ratio * q; exactly z when q_ratio is 0 and exactly q when it is 1."""
    if q_ratio == 0.0:
        return z
    if q_ratio == 1.0:
        return q.to(z.dtype)
    return (1.0 - q_ratio) * z + q_ratio * q.to(z.dtype)


class ValueTarget:
    """Decides the value head's target for a batch at a training step (config section `value`).

    `data_paths` only names the data in the error raised when q is asked for but missing.
    """

    def __init__(self, cfg: Mapping[str, Any], max_steps: int, data_paths: Any = None):
        cfg = cfg or {}
        self.q_ratio = Coefficient(cfg.get("q_ratio", 0.0), max_steps, "value.q_ratio")
        self.q_source = str(cfg.get("q_source", "data"))
        if self.q_source not in Q_SOURCES:
            raise ValueError(f"value.q_source: {self.q_source!r} is not one of {Q_SOURCES}")
        self.data_paths = data_paths
        self.uses_q = self.q_ratio.ever_nonzero()

    def __call__(
        self,
        batch: Mapping[str, torch.Tensor],
        step: int,
        teacher_value: Callable[[], torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, float]:
        """(value target [B], q_ratio at `step`); `teacher_value` computes the teachers' value."""
        if not self.uses_q:
            return batch["z"], 0.0
        ratio = self.q_ratio(step)
        if self.q_source == "teacher":
            if teacher_value is None:
                raise ValueError("value.q_source is 'teacher' but kd.teachers is empty")
            return blend_value(batch["z"], teacher_value(), ratio), ratio
        if "q" not in batch:
            raise MissingQError(
                f"value.q_ratio asks for q (the search value) but the data has none: "
                f"data.train = {self.data_paths!r} yields batches without 'q' (Leela Zero text "
                "chunks carry no q; use self-play shards, set value.q_source=teacher, "
                "or set value.q_ratio=0)"
            )
        return blend_value(batch["z"], batch["q"], ratio), ratio


class TeacherTargets:
    """Soft targets from an engine's judgement of each position that the data carries (GNU Go's
    candidate moves with their values and its score estimate: shards of games annotated by
    `zeroforge annotate --teacher`; not the networks of `kd.teachers`). Where a position has
    it (`has_teacher`, and for the policy at least one candidate):

        policy target = (1 - w) * played move + w * softmax(values / T) over the candidates
        z             = (1 - r) * z + r * tanh(teacher score / scale)   (then blended with q)

    w = `loss.teacher_policy_weight`, T = `loss.teacher_temperature` (points),
    r = `value.teacher_ratio` (a number or a schedule table, as q_ratio) and scale =
    `value.teacher_score_scale` (points). Positions without it keep the played move and z.
    With w = r = 0 (the defaults) nothing changes, and the data need not carry the fields."""

    def __init__(self, loss: Mapping[str, Any], value: Mapping[str, Any], max_steps: int):
        loss, value = loss or {}, value or {}
        self.policy_weight = float(loss.get("teacher_policy_weight", 0.0))
        self.temperature = float(loss.get("teacher_temperature", 1.0))
        self.ratio = Coefficient(value.get("teacher_ratio", 0.0), max_steps, "value.teacher_ratio")
        self.score_scale = float(value.get("teacher_score_scale", 30.0))
        if not 0.0 <= self.policy_weight <= 1.0:
            raise ValueError(f"loss.teacher_policy_weight: {self.policy_weight} is not in [0, 1]")
        if not (self.temperature > 0 and self.score_scale > 0):
            raise ValueError("loss.teacher_temperature and value.teacher_score_scale must be > 0")
        self.uses_value = self.ratio.ever_nonzero()
        self.used = self.policy_weight > 0 or self.uses_value

    def check(self, batch: Mapping[str, torch.Tensor]) -> None:
        if not all(name in batch for name in TEACHER_FIELDS):
            raise ValueError(
                "loss.teacher_policy_weight / value.teacher_ratio need data with teacher "
                "targets: shards from `zeroforge sgf2chunks --shards` of games annotated by "
                "`zeroforge annotate --teacher`"
            )

    def policy(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The policy target [B,362] (the data's own when the weight is 0)."""
        played = batch["policy"]
        if self.policy_weight == 0.0:
            return played
        soft, named = teacher_policy(
            batch["teacher_moves"], batch["teacher_values"], self.temperature, played.shape[1]
        )
        weight = self.policy_weight * (batch["has_teacher"] * named).unsqueeze(1)
        return (1.0 - weight) * played + weight * soft

    def z(self, batch: Mapping[str, torch.Tensor], step: int) -> tuple[torch.Tensor, float]:
        """(z blended with the teacher's win estimate [B], the ratio at `step`)."""
        ratio = self.ratio(step)
        if ratio == 0.0:
            return batch["z"], ratio
        win = torch.tanh(batch["teacher_score"] / self.score_scale)
        weight = ratio * batch["has_teacher"]
        return (1.0 - weight) * batch["z"] + weight * win, ratio


def teacher_policy(
    moves: torch.Tensor, values: torch.Tensor, temperature: float, num_moves: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(softmax(values / T) over each row's candidates scattered to [B, num_moves], float [B]:
    1 where the row names at least one candidate). `moves` [B,K] with -1 after the last."""
    valid = moves >= 0
    logits = (values / temperature).masked_fill(~valid, float("-inf"))
    named = valid.any(dim=1)
    probabilities = torch.softmax(logits.masked_fill(~named.unsqueeze(1), 0.0), dim=1)
    probabilities = probabilities * valid  # a row without candidates: all 0
    soft = torch.zeros(moves.shape[0], num_moves, dtype=values.dtype, device=values.device)
    soft.scatter_add_(1, moves.clamp(min=0), probabilities)
    return soft, named.to(values.dtype)


def make_targets(
    batch: Mapping[str, torch.Tensor],
    planes: torch.Tensor,
    step: int,
    training: bool,
    value_target: ValueTarget,
    distillation: Any = None,
    teacher: TeacherTargets | None = None,
) -> dict[str, Any]:
    """All targets of a batch: "policy" (the data's, or blended with the data's teacher
    targets), "value" (z or a z/q blend, z possibly blended with the teacher's score) and,
    while training with teachers, their outputs on the same (augmented) network input `planes`.

    Validation measures against the data's labels only: policy and z, no teacher."""
    if not training:
        return {"policy": batch["policy"], "value": batch["z"]}
    target: dict[str, Any] = {"policy": batch["policy"]}
    z = batch["z"]
    if teacher is not None and teacher.used:
        teacher.check(batch)
        target["policy"] = teacher.policy(batch)
        if teacher.uses_value:
            taught_z, target["teacher_ratio"] = teacher.z(batch, step)
            batch = {**batch, "z": taught_z}
    if distillation is not None:
        target.update(distillation.targets(planes, step))

    def teacher_value() -> torch.Tensor:
        if "teacher_value" in target:
            return target["teacher_value"]
        return distillation.teacher_value(planes)

    has_teachers = distillation is not None
    target["value"], target["q_ratio"] = value_target(
        batch, step, teacher_value if has_teachers else None
    )
    if value_target.uses_q or "teacher_ratio" in target:  # logged at every step of such a
        target["z"] = z  # run, ratio 0 included
    return target


def add_value_terms(
    terms: dict[str, torch.Tensor], value: torch.Tensor, target: Mapping[str, Any]
) -> None:
    """With a z/q (or z/teacher) blend, also logs the value error against z alone
    (`value_mse_z`), the number that compares with runs trained on z, and the ratios used."""
    if "z" not in target:
        return
    terms["value_mse_z"] = losses.value_mse(value, target["z"])
    terms["q_ratio"] = torch.tensor(float(target["q_ratio"]))
    if "teacher_ratio" in target:
        terms["teacher_ratio"] = torch.tensor(float(target["teacher_ratio"]))
