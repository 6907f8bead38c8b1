"""Head parametrisations (nn/heads.py): what each computes, that export writes the matrix
training used, and that the regularisation reaches the right parameters."""

import pytest
import torch
import torch.nn.functional as F

from zeroforge.convert.lzweights import load_net, net_to_rows
from zeroforge.convert.nets import load_any_net
from zeroforge.go.geometry import NUM_MOVES, NUM_POINTS, PASS
from zeroforge.nn import heads
from zeroforge.nn.checkpoint import build_network, save_checkpoint
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.nn.nfnet import NFNet
from zeroforge.train import losses
from zeroforge.train.optim import parameter_groups


def perturbed(net, seed: int = 0):
    """Residuals off zero (where the kind has them) and random BN statistics."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, heads.FoldedLinear) and module.residual is not None:
                module.residual.copy_(
                    0.05 * torch.randn(module.residual.shape, generator=generator)
                )
    return randomize_bn_stats(net, seed) if isinstance(net, LZNet) else net


def planes(n: int = 6) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    x = (torch.rand(n, 18, 19, 19, generator=generator) < 0.3).float()
    x[:, 16:] = 0
    x[:, 16] = 1
    return x


@pytest.mark.parametrize("head", heads.HEADS)
@pytest.mark.parametrize("net_class", [LZNet, NFNet])
def test_export_holds_the_matrix_training_used(tmp_path, head, net_class):
    torch.manual_seed(0)
    net = perturbed(net_class(1, 8, head=head)).eval()
    rows = net_to_rows(net)
    assert rows[-10].size == NUM_MOVES * 2 * NUM_POINTS and rows[-4].size == 256 * NUM_POINTS
    path = tmp_path / "net.txt"
    from zeroforge.convert.lzweights import export_net

    export_net(net, path)
    loaded = load_net(path)
    with torch.no_grad():
        (policy, value), (lz_policy, lz_value) = net(planes()), loaded(planes())
    tolerance = 0.0 if net_class is LZNet else 2e-5  # the NF fold rounds (test_nfnet.py)
    assert (policy - lz_policy).abs().max() <= tolerance
    assert (value - lz_value).abs().max() <= tolerance


def test_conv_policy_is_a_pointwise_convolution_with_a_pooled_pass():
    torch.manual_seed(1)
    fc = heads.policy_fc("conv", 2)
    with torch.no_grad():
        fc.bias.normal_()
    features = torch.rand(3, 2 * NUM_POINTS)
    logits = fc(features)
    a, g = fc.point_weight.detach(), fc.pass_weight.detach()
    by_channel = features.view(3, 2, NUM_POINTS)
    expected_points = (a.view(1, 2, 1) * by_channel).sum(1) + fc.bias[:PASS].detach()
    expected_pass = (g * by_channel.mean(2)).sum(1) + fc.bias[PASS].detach()
    assert torch.allclose(logits[:, :PASS], expected_points, atol=1e-6)
    assert torch.allclose(logits[:, PASS], expected_pass, atol=1e-6)
    assert sum(p.numel() for p in fc.parameters()) == 2 + 2 + NUM_MOVES


def test_conv3_policy_is_a_zero_padded_3x3_convolution():
    torch.manual_seed(5)
    fc = heads.policy_fc("conv3", 2)
    with torch.no_grad():
        fc.point_weight.normal_()  # every tap, not only the centre it starts with
        fc.bias.normal_()
    features = torch.rand(3, 2 * NUM_POINTS)
    kernel = fc.point_weight.detach().view(1, 2, 3, 3)
    board = features.view(3, 2, 19, 19)
    expected = F.conv2d(board, kernel, padding=1).flatten(1) + fc.bias[:PASS].detach()
    assert torch.allclose(fc(features)[:, :PASS], expected, atol=1e-5)
    assert sum(p.numel() for p in fc.parameters()) == 18 + 2 + NUM_MOVES
    fresh = heads.policy_fc("conv3", 2).point_weight.detach()
    assert fresh[:, 1, 1].abs().min() > 0 and fresh.abs().sum() == fresh[:, 1, 1].abs().sum()


def test_pooled_value_sees_only_the_mean_of_the_plane():
    torch.manual_seed(2)
    fc = heads.value_fc1("conv", 256)
    plane = torch.rand(1, NUM_POINTS)
    shuffled = plane[:, torch.randperm(NUM_POINTS)]
    assert torch.allclose(fc(plane), fc(shuffled), atol=1e-6)
    assert not torch.allclose(fc(plane), fc(plane * 2))


def test_conv_init_is_a_plain_linear_near_the_conv_matrix():
    torch.manual_seed(3)
    fc = heads.policy_fc("conv_init", 2)
    assert type(fc) is torch.nn.Linear
    diagonal = fc.weight[:PASS, :PASS].diagonal()
    off_diagonal = fc.weight[:PASS, :PASS] - torch.diag(diagonal)
    assert off_diagonal.std() < 0.02 and (diagonal - diagonal.mean()).std() < 0.05
    assert diagonal.abs().mean() > 0.05  # the shared weight, not only noise


def test_residual_starts_at_zero_and_only_it_pays_the_head_l2():
    net = LZNet(1, 8, head="conv_residual", head_residual_l2=0.01)
    assert float(heads.head_penalty(net).detach()) == 0.0
    assert heads.head_penalty(LZNet(1, 8, head="conv")) is None
    assert heads.head_penalty(LZNet(1, 8)) is None
    with torch.no_grad():
        net.policy_fc.residual.fill_(1.0)
    assert float(heads.head_penalty(net).detach()) == pytest.approx(
        0.5 * 0.01 * NUM_MOVES * 2 * NUM_POINTS
    )
    heads.head_penalty(net).backward()
    assert net.policy_fc.residual.grad.abs().min() > 0
    assert net.policy_fc.point_weight.grad is None


def test_optimiser_l2_reaches_shared_weights_not_residuals():
    net = LZNet(1, 8, head="conv_residual")
    chosen = {id(p) for p in losses.regularized_parameters(net)}
    for fc in (net.policy_fc, net.value_fc1):
        assert all(id(p) in chosen for p in fc.shared_weights())
        assert id(fc.residual) not in chosen and id(fc.bias) not in chosen
    decayed, rest = parameter_groups(net, 0.01)
    assert {id(p) for p in decayed["params"]} == chosen
    assert id(net.policy_fc.residual) in {id(p) for p in rest["params"]}


@pytest.mark.parametrize("head", heads.HEADS)
def test_checkpoint_round_trip(tmp_path, head):
    torch.manual_seed(4)
    net = perturbed(LZNet(1, 8, head=head, head_residual_l2=0.02))
    save_checkpoint(net, tmp_path / "net.ckpt")
    loaded = load_any_net(tmp_path / "net.ckpt")
    assert loaded.config() == net.config()
    with torch.no_grad():
        assert torch.equal(loaded(planes())[0], net.eval()(planes())[0])


def test_old_network_description_means_the_plain_head():
    net = build_network({"kind": "lz", "norm": "bn", "blocks": 1, "filters": 8})
    assert net.config()["head"] == "lz" and type(net.policy_fc) is torch.nn.Linear


def test_unknown_head():
    with pytest.raises(ValueError, match="network.head: 'dense' is not one of"):
        LZNet(1, 8, head="dense")
