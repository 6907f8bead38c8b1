import math

import numpy as np
import pytest
import torch

from zeroforge.nn.nfnet import (
    ACTIVATION_GAMMA,
    LZ_IDENTITY_VAR,
    ExportError,
    NFNet,
    WSConv2d,
    expected_block_stds,
)


def random_planes(n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    planes = (torch.rand(n, 18, 19, 19, generator=gen) < 0.3).float()
    planes[:, 16:] = 0
    planes[: n // 2, 16] = 1
    planes[n // 2 :, 17] = 1
    return planes


def perturbed_net(
    blocks: int = 3, filters: int = 16, activation: str = "relu", head: str = "lz"
) -> NFNet:
    """An NF net away from its init: non-zero skip gains, gains and biases off 1 and 0."""
    torch.manual_seed(1)
    net = NFNet(blocks, filters, activation=activation, head=head)
    with torch.no_grad():
        for i, block in enumerate(net.tower):
            block.skip_gain.fill_(0.5 + 0.3 * i)
        for module in net.modules():
            if isinstance(module, WSConv2d):
                module.gain.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    return net


def loss_of(net: NFNet, planes: torch.Tensor) -> torch.Tensor:
    policy, value = net(planes)
    target = torch.arange(planes.shape[0]) * 37 % 362
    return torch.nn.functional.cross_entropy(policy, target) + (value - 0.5).square().mean()


@pytest.mark.parametrize("activation", ["relu", "silu"])
def test_every_conv_of_every_block_gets_a_gradient(activation):
    # At init the skip gains are 0, so only they (not the block convs) get a gradient; after
    # one SGD step every conv of every block must get one (dlshogi's NF code skipped conv1).
    torch.manual_seed(0)
    net = NFNet(3, 8, activation=activation)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    planes = random_planes(8)
    loss_of(net, planes).backward()
    for block in net.tower:
        assert block.skip_gain.grad.abs() > 0
        assert block.conv1.weight.grad.abs().max() == 0  # branch is multiplied by 0 at init
    opt.step()
    opt.zero_grad()
    loss_of(net, planes).backward()
    for name, param in net.named_parameters():
        assert param.grad is not None and param.grad.abs().max() > 0, name
    for block in net.tower:
        for conv in (block.conv1, block.conv2):
            per_unit = conv.weight.grad.flatten(1).abs().amax(dim=1)
            assert (per_unit > 0).all()


def test_blocks_are_identity_at_init():
    torch.manual_seed(0)
    net = NFNet(4, 8)
    stream = torch.relu(torch.randn(2, 8, 19, 19))
    assert torch.equal(net.tower(stream), stream)


def test_standardized_weight_is_zero_mean_unit_norm_times_gain():
    torch.manual_seed(0)
    conv = WSConv2d(12, 5, 3)
    with torch.no_grad():
        conv.weight.mul_(7).add_(3)
        conv.gain.copy_(torch.tensor([0.5, 1, 2, 3, 4]))
    w = conv.standardized_weight().flatten(1)
    assert w.mean(dim=1).abs().max() < 1e-6
    assert torch.allclose(w.square().sum(dim=1), conv.gain.square(), rtol=1e-4)


def test_activation_gammas_by_quadrature():
    z = np.linspace(-12, 12, 400_001)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    for name, act in {"relu": np.maximum(z, 0), "silu": z / (1 + np.exp(-z))}.items():
        mean = np.trapezoid(act * density, z)
        var = np.trapezoid(act * act * density, z) - mean * mean
        assert ACTIVATION_GAMMA[name] == pytest.approx(1 / math.sqrt(var), rel=1e-7)


@pytest.mark.parametrize("activation", ["relu", "silu"])
def test_signal_propagation_matches_expected_stds(activation):
    # With every skip gain at 1 (the scale the bookkeeping assumes), the measured std of each
    # block's input stays close to beta_i. Zero padding at the board edge lowers the conv
    # variance by a few percent, hence the tolerance.
    torch.manual_seed(0)
    blocks, filters = 6, 64
    net = NFNet(blocks, filters, activation=activation)
    with torch.no_grad():
        for block in net.tower:
            block.skip_gain.fill_(1.0)
        act, gamma = (
            torch.relu if activation == "relu" else torch.nn.functional.silu,
            ACTIVATION_GAMMA[activation],
        )
        x = gamma * act(torch.randn(16, filters, 19, 19))
        for i, block in enumerate(net.tower):
            assert x.std().item() == pytest.approx(net.betas[i], rel=0.1), i
            x = block(x)
        assert x.std().item() == pytest.approx(net.betas[-1], rel=0.1)


def test_expected_stds_below_pre_activation_rule():
    stds = expected_block_stds(8, 0.2, "relu")
    assert stds[0] == pytest.approx(1.0, abs=0.01)
    for i in range(8):
        # ReLU is 1-Lipschitz: Var(x') <= Var(x) + alpha^2 (module docstring)
        assert stds[i + 1] ** 2 <= stds[i] ** 2 + 0.04 + 1e-9


def test_export_tensors_layout():
    blocks, filters = 2, 8
    tensors = perturbed_net(blocks, filters).lz_tensors()
    assert len(tensors) == 4 + 8 * blocks + 14
    assert tensors[0].shape == (filters, 18, 3, 3)
    assert tensors[2].tolist() == [0.0] * filters
    assert tensors[3].tolist() == [np.float32(LZ_IDENTITY_VAR)] * filters
    assert all(t.dtype == np.float32 for t in tensors)
    # leelaz's batch norm with these rows is the identity in float32 (docs/ENGINES.md#leela-zero-weights-files)
    scale = np.float32(1) / np.sqrt(np.float32(LZ_IDENTITY_VAR) + np.float32(1e-5))
    assert scale == np.float32(1)


def test_export_refuses_silu():
    with pytest.raises(ExportError, match="silu.*ReLU"):
        NFNet(1, 8, activation="silu").lz_tensors()


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        NFNet(1, 8, activation="gelu")


def test_export_roundtrip_equals_nf_forward(tmp_path):
    # The folded file, read back into the BN network, computes the NF net's numbers.
    from zeroforge.convert.lzweights import load_net
    from zeroforge.formats.lzweights import write_weights

    net = perturbed_net().eval()
    path = tmp_path / "nf.txt.gz"
    write_weights(path, net.lz_tensors())
    lz = load_net(path)
    planes = random_planes(16)
    with torch.no_grad():
        (policy, value), (lz_policy, lz_value) = net(planes), lz(planes)
    assert (policy - lz_policy).abs().max() < 2e-5
    assert (value - lz_value).abs().max() < 2e-6
    assert policy.std() > 0.1  # not a trivially flat output


# ---------------------------------------------------------------- against a real leelaz


@pytest.mark.engine
@pytest.mark.parametrize("head", ["lz", "conv_residual"])
def test_leelaz_computes_the_nf_nets_numbers(lowercase_tmp, head):
    # The network issue's heatmap equivalence check, unchanged, on an exported NF net, with
    # the plain head and with a structured one (nn/heads.py: the same head code as LZNet's).
    from tests.test_leelaz_equivalence import POSITIONS, assert_same, leelaz_heatmaps, our_heatmap
    from zeroforge.convert.lzweights import export_net, load_net

    net = perturbed_net(blocks=3, filters=16, head=head).eval()
    with torch.no_grad():  # a peaked policy and a decisive value make the check sharp
        if head == "lz":
            net.policy_fc.weight.mul_(12)  # max 1.2-9 %, ~25 distinct per-mille values
        else:
            net.policy_fc.point_weight.mul_(6)
            net.policy_fc.residual.normal_(0.0, 0.3)
            net.value_fc1.residual.normal_(0.0, 0.3)
        net.value_fc2.weight.mul_(4)
        net.value_conv.bias.add_(0.5)
    weights = lowercase_tmp / "nf.txt"
    export_net(net, weights)
    moves = list(POSITIONS.values())
    theirs = leelaz_heatmaps(weights, moves)
    loaded = load_net(weights)
    winrates = []
    for name, position, heatmap in zip(POSITIONS, moves, theirs, strict=True):
        assert_same(our_heatmap(net, position), heatmap, f"NF net, {name}")
        assert_same(our_heatmap(loaded, position), heatmap, f"NF export loaded as LZNet, {name}")
        winrates.append(float(heatmap.split("winrate: ")[1]))
    assert max(winrates) - min(winrates) > 0.05  # the value head is not flat


def test_checkpoint_round_trip(tmp_path):
    from zeroforge.convert.nets import load_any_net
    from zeroforge.nn.checkpoint import save_checkpoint

    net = perturbed_net(2, 8, activation="silu")
    save_checkpoint(net, tmp_path / "nf.ckpt")
    loaded = load_any_net(tmp_path / "nf.ckpt")
    assert isinstance(loaded, NFNet) and loaded.config() == net.config()
    planes = random_planes(4)
    with torch.no_grad():
        assert torch.equal(loaded(planes)[0], net.eval()(planes)[0])


def test_silu_net_trains_without_export(tmp_path, capsys):
    # SiLU is for experiments: training runs to the end, keeps checkpoints, writes no LZ file.
    from tests.train.chunks import train_args, write_chunks
    from zeroforge.commands.train import main

    chunks = write_chunks(tmp_path / "chunks", files=1, positions=64)
    extra = [
        "network=nf6x64",
        "network.blocks=1",
        "network.filters=8",
        "averaging=none",
        "network.activation=silu",
        "train.export_every=1",
        "train.checkpoint_every=2",
    ]
    with pytest.warns(UserWarning, match="no Leela Zero export: .*silu"):
        assert main(train_args(chunks, tmp_path / "run", 2, *extra)) == 0
    assert "final network: none (not exportable)" in capsys.readouterr().out
    assert not list((tmp_path / "run").glob("nets/*.gz"))
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()
