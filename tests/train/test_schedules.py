import math

import pytest
from hydra import compose, initialize_config_module

from zeroforge.train.schedules import SegmentSchedule, build_segments, multiplier_at


def preset(name: str) -> list:
    with initialize_config_module(config_module="zeroforge.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"schedule={name}", "out_dir=x", "data.train=x"])
    return list(cfg.schedule.segments)


def values(name: str, max_steps: int, steps: list[int]) -> list[float]:
    schedule = SegmentSchedule(preset(name), max_steps)
    return [schedule(s) for s in steps]


def test_flat():
    assert values("flat", 1000, [0, 500, 999, 1000, 5000]) == [1.0] * 5


def test_step_drops_at_half_and_eighty_percent():
    got = values("step", 1000, [0, 499, 500, 799, 800, 999, 1000])
    assert got == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.01])


def test_warmup_is_linear_from_zero_then_flat():
    got = values("warmup", 1000, [0, 10, 25, 49, 50, 999])
    assert got == pytest.approx([0.0, 0.2, 0.5, 0.98, 1.0, 1.0])


def test_cosine_tail_flat_then_half_cosine_to_zero():
    got = values("cosine_tail", 1000, [0, 749, 750, 875, 999, 1000])
    expected_999 = 0.5 * (1 + math.cos(math.pi * 249 / 250))
    assert got == pytest.approx([1.0, 1.0, 1.0, 0.5, expected_999, 0.0])


def test_warmup_cosine():
    got = values("warmup_cosine", 100, [0, 1, 5, 52, 100])
    assert got == pytest.approx([0.0, 0.2, 1.0, 0.5 * (1 + math.cos(math.pi * 47 / 95)), 0.0])


def test_absolute_steps_and_percentages_mix():
    table = [
        {"kind": "linear", "until": 10, "from": 0.0, "to": 1.0},
        {"kind": "constant", "until": "50%", "from": 1.0},
        {"kind": "linear", "until": "100%", "from": 1.0, "to": 0.5},
    ]
    segments = build_segments(table, 200)
    assert [s.end_step for s in segments] == [10, 100, 200]
    assert multiplier_at(segments, 5) == pytest.approx(0.5)
    assert multiplier_at(segments, 150) == pytest.approx(0.75)


@pytest.mark.parametrize(
    "table, message",
    [
        ([{"kind": "square", "until": 10, "from": 1.0}], "kind"),
        ([{"kind": "constant", "until": 10}], "from"),
        ([{"kind": "constant", "until": 1.5, "from": 1.0}], "until"),
        (
            [
                {"kind": "constant", "until": 50, "from": 1.0},
                {"kind": "constant", "until": 20, "from": 1.0},
            ],
            "before",
        ),
        ([], "no segments"),
    ],
)
def test_bad_tables_are_refused(table, message):
    with pytest.raises(ValueError, match=message):
        build_segments(table, 100)


def test_lambda_lr_follows_the_table():
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, SegmentSchedule(preset("step"), 10))
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.2] * 5 + [0.02] * 3 + [0.002] * 2)
