import math

import pytest
import torch

from zeroforge.nn.lznet import LZNet
from zeroforge.train import losses
from zeroforge.train.module import TrainModule
from zeroforge.train.optim import build_optimizer, parameter_groups


def test_l2_touches_exactly_conv_and_fc_weights():
    net = LZNet(2, 8)
    chosen = {
        name
        for name, p in net.named_parameters()
        if any(p is q for q in losses.regularized_parameters(net))
    }
    expected = {
        "input.conv.weight",
        "policy_conv.conv.weight",
        "value_conv.conv.weight",
        "policy_fc.weight",
        "value_fc1.weight",
        "value_fc2.weight",
    }
    expected |= {f"tower.{b}.conv{i}.conv.weight" for b in range(2) for i in (1, 2)}
    assert chosen == expected
    assert not any("bias" in n or "bn" in n for n in chosen)


def test_l2_penalty_is_half_sum_of_squares():
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([[3.0]])
    assert float(losses.l2_penalty([a, b])) == pytest.approx(0.5 * (1 + 4 + 9))


def test_l2_gradient_reaches_only_regularized_parameters():
    net = LZNet(1, 4)
    chosen = {id(p) for p in losses.regularized_parameters(net)}
    losses.l2_penalty(losses.regularized_parameters(net)).backward()
    for name, p in net.named_parameters():
        touched = p.grad is not None and bool(p.grad.abs().sum() > 0)
        assert touched == (id(p) in chosen), name


def test_policy_cross_entropy_against_soft_targets():
    logits = torch.tensor([[0.0, math.log(3.0)]])
    target = torch.tensor([[0.5, 0.5]])
    # softmax = [1/4, 3/4]
    expected = -(0.5 * math.log(0.25) + 0.5 * math.log(0.75))
    assert float(losses.policy_cross_entropy(logits, target)) == pytest.approx(expected)


def test_value_mse_and_accuracy():
    assert float(losses.value_mse(torch.tensor([0.5, -1.0]), torch.tensor([1.0, -1.0]))) == 0.125
    logits = torch.tensor([[0.1, 0.9, 0.0], [2.0, 0.0, 0.0]])
    target = torch.tensor([[0.2, 0.7, 0.1], [0.0, 0.0, 1.0]])
    assert float(losses.top1_accuracy(logits, target)) == 0.5


def test_weight_decay_groups_match_l2_parameters():
    net = LZNet(1, 4)
    decayed, rest = parameter_groups(net, 0.01)
    assert {id(p) for p in decayed["params"]} == {id(p) for p in losses.regularized_parameters(net)}
    assert rest["weight_decay"] == 0.0 and decayed["weight_decay"] == 0.01
    # gamma is fixed at 1 (Leela Zero): not trainable, in no group
    gammas = {id(m.bn.weight) for m in net.modules() if hasattr(m, "bn")}
    assert not gammas & {id(p) for g in (decayed, rest) for p in g["params"]}


@pytest.mark.parametrize("name", ["sgd", "adamw", "ranger"])
def test_optimizers_build_and_step(name):
    net = LZNet(1, 4)
    optimizer = build_optimizer({"name": name, "lr": 0.01, "weight_decay": 0.01}, net)
    before = net.input.conv.weight.detach().clone()
    policy, value = net(torch.rand(2, 18, 19, 19))
    (policy.sum() + value.sum()).backward()
    optimizer.step()
    assert not torch.equal(before, net.input.conv.weight)


def test_module_loss_adds_weighted_terms():
    config = {
        "network": {"kind": "lz", "blocks": 1, "filters": 4},
        "optim": {"name": "sgd", "lr": 0.1, "l2": 1e-4},
        "schedule": {"segments": [{"kind": "constant", "until": "100%", "from": 1.0}]},
        "loss": {"value_weight": 0.25},
        "max_steps": 10,
    }
    module = TrainModule(config)
    batch = {
        "planes": torch.randint(0, 2, (4, 18, 19, 19), dtype=torch.uint8),
        "policy": torch.softmax(torch.randn(4, 362), 1),
        "z": torch.tensor([1.0, -1, 1, -1]),
    }
    terms = module.compute_losses(batch)
    total = terms["policy_loss"] + 0.25 * terms["value_mse"] + 1e-4 * terms["l2"]
    assert terms["loss"].item() == pytest.approx(total.item())
    held_out = module.compute_losses(batch, with_l2=False)  # what validation reports
    assert "l2" not in held_out and terms["l2"].item() > 0
    data = held_out["policy_loss"] + 0.25 * held_out["value_mse"]
    assert held_out["loss"].item() == pytest.approx(data.item())


def test_ownership_loss_is_the_two_way_cross_entropy_per_point():
    from zeroforge.train.losses import ownership_loss

    target = torch.tensor([[1.0, -1.0, 0.0]])
    sure = ownership_loss(torch.tensor([[20.0, -20.0, 0.0]]), target)
    assert sure.item() == pytest.approx(math.log(2) / 3, abs=1e-6)  # a 0 point costs log 2
    wrong = ownership_loss(torch.tensor([[-2.0, 2.0, 0.0]]), target)
    assert wrong.item() > sure.item()


def test_score_loss_scales_the_margin_and_is_huber():
    from zeroforge.train.losses import score_loss

    assert score_loss(torch.tensor([1.0]), torch.tensor([20.0]), 20.0).item() == 0.0
    assert score_loss(torch.tensor([0.0]), torch.tensor([10.0]), 20.0).item() == 0.125
    assert score_loss(torch.tensor([0.0]), torch.tensor([100.0]), 20.0).item() == 4.5
