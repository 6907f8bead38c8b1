import torch

from zeroforge.nn.lznet import LZBatchNorm, LZNet, randomize_bn_stats


def test_shapes_and_ranges():
    net = LZNet(2, 8).eval()
    policy, value = net(torch.rand(3, 18, 19, 19))
    assert policy.shape == (3, 362) and value.shape == (3,)
    assert (value.abs() < 1).all()


def test_uint8_planes_equal_float_planes():
    net = randomize_bn_stats(LZNet(1, 8), seed=3).eval()
    planes = (torch.rand(2, 18, 19, 19) < 0.3).to(torch.uint8)
    with torch.no_grad():
        a, b = net(planes), net(planes.float())
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_batch_norm_is_leela_zeros():
    net = LZNet(1, 8, bn_momentum=0.05)
    bns = [m for m in net.modules() if isinstance(m, LZBatchNorm)]
    assert len(bns) == 5  # input, 2 in the block, 2 heads
    for bn in bns:
        assert bn.eps == 1e-5 and bn.momentum == 0.05
        assert not bn.weight.requires_grad and bn.bias.requires_grad
    gamma = LZNet(1, 8, affine_gamma=True)
    assert all(m.weight.requires_grad for m in gamma.modules() if isinstance(m, LZBatchNorm))


def test_randomize_bn_stats_is_seeded_and_non_trivial():
    a = randomize_bn_stats(LZNet(1, 8), seed=5)
    b = randomize_bn_stats(LZNet(1, 8), seed=5)
    bn_a, bn_b = a.input.bn, b.input.bn
    assert torch.equal(bn_a.running_var, bn_b.running_var)
    assert torch.equal(bn_a.bias, bn_b.bias)
    assert (bn_a.running_var != 1).all() and (bn_a.running_var > 0).all()
    assert (bn_a.running_mean != 0).all() and (bn_a.bias != 0).all()


def test_config_rebuilds_the_network():
    net = LZNet(3, 16, bn_momentum=0.02, affine_gamma=True)
    assert net.config() == {
        "kind": "lz",
        "norm": "bn",
        "blocks": 3,
        "filters": 16,
        "bn_momentum": 0.02,
        "affine_gamma": True,
        "head": "lz",
        "head_residual_l2": 0.01,
        "aux_heads": False,
    }


def test_aux_heads_are_rebuilt_from_the_config_and_leave_the_outputs_alone():
    from zeroforge.nn.checkpoint import build_network

    torch.manual_seed(3)
    net = LZNet(1, 8, aux_heads=True).eval()
    again = build_network(net.config())
    again.load_state_dict(net.state_dict())
    planes = (torch.rand(2, 18, 19, 19) < 0.2).float()
    policy, value, ownership, score = again.eval().forward_aux(planes)
    assert ownership.shape == (2, 361) and score.shape == (2,)
    plain_policy, plain_value = net(planes)
    assert torch.equal(policy, plain_policy) and torch.equal(value, plain_value)
