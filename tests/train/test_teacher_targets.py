"""Soft targets from the teacher judgements the data carries (train/targets.TeacherTargets):
off by default with exactly the old loss; on, the policy is trained towards the blend of the
played move and softmax(values / T) over GNU Go's candidates, the value towards z blended with
tanh(score / scale), both only where a position was judged; validation keeps the data's labels."""

from __future__ import annotations

import math

import pytest
import torch

from tests.train.test_distill import batch_of
from zeroforge.train import losses
from zeroforge.train.module import TrainModule


def teacher_batch(positions: int = 12, seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch with the teacher fields as make_batch gives them: row 0 unjudged, row 1 judged
    with no candidate, the others with 1-10 candidates."""
    batch = batch_of(positions, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    moves = torch.full((positions, 10), -1, dtype=torch.int64)
    values = torch.zeros(positions, 10)
    for row in range(2, positions):
        k = 1 + row % 10
        moves[row, :k] = torch.randperm(362, generator=generator)[:k]
        values[row, :k] = torch.rand(k, generator=generator).sort(descending=True).values * 30
    batch.update(
        has_teacher=(torch.arange(positions) > 0).float(),
        teacher_moves=moves,
        teacher_values=values,
        teacher_score=torch.randn(positions, generator=generator) * 20,
    )
    return batch


def module(loss: dict | None = None, value: dict | None = None) -> TrainModule:
    torch.manual_seed(0)
    return TrainModule(
        {
            "network": {"kind": "lz", "norm": "bn", "blocks": 1, "filters": 8},
            "optim": {"name": "sgd", "lr": 0.05, "l2": 1e-4},
            "max_steps": 4,
            "schedule": {"segments": [{"kind": "constant", "until": "100%", "from": 1.0}]},
            "loss": {"value_weight": 0.5, **(loss or {})},
            "value": value or {},
            "init": {"kind": "default"},
        }
    )


def hand_policy(batch: dict, weight: float, temperature: float) -> torch.Tensor:
    """(1 - w) * played + w * softmax(values / T) over the candidates, row by row."""
    target = batch["policy"].clone()
    for row in range(len(target)):
        k = int((batch["teacher_moves"][row] >= 0).sum())
        if batch["has_teacher"][row] == 0 or k == 0:
            continue
        exp = [math.exp(v / temperature) for v in batch["teacher_values"][row, :k].tolist()]
        soft = torch.zeros(362)
        for move, e in zip(batch["teacher_moves"][row, :k].tolist(), exp, strict=True):
            soft[move] = e / sum(exp)
        target[row] = (1 - weight) * target[row] + weight * soft
    return target


def test_off_by_default_is_exactly_the_old_loss():
    batch = teacher_batch()
    plain = {k: batch[k] for k in ("planes", "policy", "z")}
    net = module()
    old = net.compute_losses(plain)
    logits, value = net.net(plain["planes"].float())
    by_hand = losses.policy_cross_entropy(logits, plain["policy"]) + 0.5 * losses.value_mse(
        value, plain["z"]
    )
    assert torch.equal(old["loss"] - 1e-4 * old["l2"], by_hand)
    zeros = {"teacher_policy_weight": 0.0, "teacher_temperature": 3.0}
    for taught in (net, module(zeros, {"teacher_ratio": 0.0, "teacher_score_scale": 5.0})):
        terms = taught.compute_losses(batch)  # the fields are there and change nothing
        assert terms.keys() == old.keys()
        assert all(torch.equal(terms[k], old[k]) for k in old)


@pytest.mark.parametrize("weight, temperature", [(1.0, 1.0), (1.0, 4.0), (0.3, 2.0)])
def test_soft_policy_is_cross_entropy_against_the_blend_by_hand(weight, temperature):
    batch = teacher_batch()
    net = module({"teacher_policy_weight": weight, "teacher_temperature": temperature})
    terms = net.compute_losses(batch)
    logits, value = net.net(batch["planes"].float())
    target = hand_policy(batch, weight, temperature)
    assert torch.allclose(target.sum(dim=1), torch.ones(len(target)))
    assert not torch.equal(target, batch["policy"])
    torch.testing.assert_close(terms["policy_loss"], losses.policy_cross_entropy(logits, target))
    torch.testing.assert_close(terms["value_mse"], losses.value_mse(value, batch["z"]))
    held_out = net.eval().compute_losses(batch, with_l2=False)  # validation: the played move
    net.eval()
    logits, _ = net.net(batch["planes"].float())
    torch.testing.assert_close(
        held_out["policy_loss"], losses.policy_cross_entropy(logits, batch["policy"])
    )


def test_soft_value_blends_z_with_the_teachers_win_estimate_where_judged():
    batch = teacher_batch()
    net = module(value={"teacher_ratio": 0.25, "teacher_score_scale": 8.0})
    terms = net.compute_losses(batch)
    _, value = net.net(batch["planes"].float())
    win = torch.tanh(batch["teacher_score"] / 8.0)
    target = torch.where(batch["has_teacher"] > 0, 0.75 * batch["z"] + 0.25 * win, batch["z"])
    torch.testing.assert_close(terms["value_mse"], losses.value_mse(value, target))
    torch.testing.assert_close(terms["value_mse_z"], losses.value_mse(value, batch["z"]))
    assert terms["teacher_ratio"] == 0.25


def test_teacher_weights_on_data_without_the_fields_is_a_clear_error():
    for net in (module({"teacher_policy_weight": 0.5}), module(value={"teacher_ratio": 0.5})):
        with pytest.raises(ValueError, match="annotate --teacher"):
            net.compute_losses(batch_of(4))


@pytest.mark.parametrize(
    "loss, value",
    [({"teacher_policy_weight": 1.5}, {}), ({"teacher_temperature": 0}, {}),
     ({}, {"teacher_score_scale": -1}), ({}, {"teacher_ratio": 2.0})],
)  # fmt: skip
def test_bad_teacher_settings_are_refused(loss, value):
    with pytest.raises(ValueError, match="teacher"):
        module(loss, value)


def test_a_run_on_shards_with_teacher_fields_trains_with_them(tmp_path):
    """The whole path: shards with the teacher fields -> GoDataset -> the soft targets."""
    import csv

    from tests.conftest import make_positions
    from tests.formats.test_shards import _targets, _teacher
    from tests.train.chunks import train_args
    from zeroforge.commands.train import main
    from zeroforge.formats.shards import Shard, write_shard

    (tmp_path / "shards").mkdir()
    for index in range(2):
        ownership, score = _targets(40, index)
        positions = make_positions(40, seed=index)
        shard = Shard(positions, ownership=ownership, score=score, **_teacher(40, index))
        write_shard(tmp_path / "shards" / f"t.{index}.zfs", shard)
    taught = ["loss.teacher_policy_weight=0.5", "value.teacher_ratio=0.5"]
    assert main([*train_args(tmp_path / "shards", tmp_path / "run", 3), *taught]) == 0
    with open(tmp_path / "run" / "metrics.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row["loss"]]
    assert len(rows) == 3 and all(float(row["teacher_ratio"]) == 0.5 for row in rows)
