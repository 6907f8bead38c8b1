import math

import pytest
import torch
from torch import nn

from zeroforge.nn.lznet import LZNet
from zeroforge.nn.nfnet import NFNet
from zeroforge.train.agc import (
    AdaptiveGradClipper,
    adaptive_clip_grad_,
    agc_parameters,
    name_matches,
)


def direct_agc(weight: torch.Tensor, grad: torch.Tensor, clip: float, eps: float) -> torch.Tensor:
    """The clipping rule written out unit by unit with Python floats."""
    units = [(weight, grad)] if weight.ndim <= 1 else list(zip(weight, grad, strict=True))
    out = []
    for w_i, g_i in units:
        w_norm = math.sqrt(sum(v * v for v in w_i.flatten().tolist()))
        g_norm = math.sqrt(sum(v * v for v in g_i.flatten().tolist()))
        bound = max(w_norm, eps)
        out.append(g_i * (clip * bound / g_norm) if g_norm / bound > clip else g_i.clone())
    return out[0] if weight.ndim <= 1 else torch.stack(out)


@pytest.mark.parametrize("shape", [(6, 4, 3, 3), (5, 7), (9,), ()])
def test_agc_matches_direct_rule(shape):
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(shape, generator=gen, dtype=torch.float64)
    # mix of units far below, near and far above the clip ratio, and one zero weight unit
    scales = torch.logspace(-4, 0, weight.shape[0] if weight.ndim else 1, dtype=torch.float64)
    grad = torch.randn(shape, generator=gen, dtype=torch.float64)
    if weight.ndim > 1:
        grad *= scales.view(-1, *[1] * (weight.ndim - 1))
        weight[1] = 0
    else:
        grad *= 0.03
    param = nn.Parameter(weight.clone())
    param.grad = grad.clone()
    for clip, eps in [(0.01, 1e-3), (0.1, 0.5)]:
        param.grad = grad.clone()
        adaptive_clip_grad_([param], clip=clip, eps=eps)
        expected = direct_agc(weight, grad, clip, eps)
        assert torch.allclose(param.grad, expected, rtol=1e-12, atol=1e-15)
    if weight.ndim > 1:  # the test data exercises both branches of the rule
        assert not torch.equal(param.grad, grad)
        assert torch.equal(param.grad[-1], grad[-1]) or torch.equal(param.grad[0], grad[0])


def test_zero_gradient_unit_is_left_alone():
    param = nn.Parameter(torch.ones(3, 4))
    param.grad = torch.zeros(3, 4)
    param.grad[0] = 10.0
    adaptive_clip_grad_([param])
    assert torch.equal(param.grad[1:], torch.zeros(2, 4))
    assert param.grad[0].norm().item() == pytest.approx(0.01 * 2.0, rel=1e-6)


def test_name_matching():
    assert name_matches("policy_fc.weight", "policy_fc")
    assert name_matches("net.policy_fc.bias", "policy_fc")
    assert not name_matches("policy_fc2.weight", "policy_fc")
    assert name_matches("value_fc2.weight", "value_fc2.weight")
    assert not name_matches("value_fc2.bias", "value_fc2.weight")
    assert name_matches("tower.3.conv1.gain", "tower.*.conv1")


@pytest.mark.parametrize("make", [lambda: LZNet(1, 8), lambda: NFNet(1, 8)])
def test_heads_final_layers_excluded_by_name(make):
    torch.manual_seed(0)
    wrapper = nn.Module()  # as inside a LightningModule: names get a prefix
    wrapper.net = make()
    policy, value = wrapper.net(torch.rand(4, 18, 19, 19))
    (policy.square().sum() * 1e3 + value.sum() * 1e3).backward()
    before = {n: p.grad.clone() for n, p in wrapper.named_parameters() if p.grad is not None}
    AdaptiveGradClipper(wrapper)()
    after = dict(wrapper.named_parameters())
    for name in (
        "net.policy_fc.weight",
        "net.policy_fc.bias",
        "net.value_fc2.weight",
        "net.value_fc2.bias",
    ):
        assert torch.equal(after[name].grad, before[name]), name
    assert not torch.equal(after["net.value_fc1.weight"].grad, before["net.value_fc1.weight"])
    excluded = {id(p) for n, p in after.items() if "policy_fc" in n or "value_fc2" in n}
    assert not excluded & {id(p) for p in agc_parameters(wrapper)}


def test_unknown_exclude_pattern_is_an_error():
    with pytest.raises(ValueError, match="'polcy_fc' matches no trainable parameter"):
        agc_parameters(LZNet(1, 8), ["polcy_fc"])


def test_agc_after_amp_unscale_equals_fp32():
    # With a GradScaler the gradients are clipped after unscale_, so the result equals
    # clipping the unscaled gradients.
    torch.manual_seed(0)
    net = NFNet(1, 8)
    planes = torch.rand(4, 18, 19, 19)
    reference = NFNet(1, 8)
    reference.load_state_dict(net.state_dict())
    for model, scaled in [(net, True), (reference, False)]:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12, enabled=scaled)
        policy, value = model(planes)
        scaler.scale(policy.logsumexp(1).mean() + value.mean()).backward()
        scaler.unscale_(opt)
        AdaptiveGradClipper(model)()
    for (name, p), q in zip(net.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, rtol=1e-5, atol=1e-9), name


def test_training_with_nf_and_agc_exports_the_trained_net(tmp_path):
    # `zeroforge train network=nf6x64 optim.agc_clip=...`: AGC runs in the optimizer step with
    # the configured exclusions, and the exported LZ file computes the checkpoint's numbers.
    from tests.train.chunks import train_args, write_chunks
    from zeroforge.commands.train import compose_config, main
    from zeroforge.convert.lzweights import load_net
    from zeroforge.convert.nets import load_any_net
    from zeroforge.train.module import TrainModule
    from zeroforge.train.recipe import module_config

    chunks = write_chunks(tmp_path / "chunks", files=2, positions=64)
    extra = [
        "network=nf6x64",
        "network.blocks=2",
        "network.filters=8",
        "optim.agc_clip=0.02",
        "optim.agc_exclude=[policy_fc,value_fc2,skip_gain]",
        "averaging=none",
        "optim.lr=0.05",
        "train.export_every=0",
        "train.checkpoint_every=4",
    ]
    args = train_args(chunks, tmp_path / "run", 4, *extra)
    module = TrainModule(module_config(compose_config(args), channels_last=False))
    clipped = {id(p) for p in module.grad_clipper.params}
    names = {n for n, p in module.net.named_parameters() if id(p) not in clipped}
    assert names == {  # the default head (nn/heads.py): shared weights and bias
        "policy_fc.point_weight",
        "policy_fc.pass_weight",
        "policy_fc.bias",
        "value_fc2.weight",
        "value_fc2.bias",
        "tower.0.skip_gain",
        "tower.1.skip_gain",
    }
    assert module.grad_clipper.clip == 0.02 and module.grad_clipper.eps == 1e-3

    assert main(args) == 0
    trained = load_any_net(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert isinstance(trained, NFNet)
    assert all(block.skip_gain.item() != 0 for block in trained.tower)  # it did train
    exported = load_net(tmp_path / "run" / "nets" / "final.txt.gz")
    planes = (torch.rand(4, 18, 19, 19) < 0.3).float()
    with torch.no_grad():
        (policy, value), (lz_policy, lz_value) = trained(planes), exported(planes)
    assert (policy - lz_policy).abs().max() < 2e-5 and (value - lz_value).abs().max() < 2e-6
