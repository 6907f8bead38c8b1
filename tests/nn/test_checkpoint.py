import pytest
import torch

from zeroforge.convert.lzweights import export_net
from zeroforge.convert.nets import load_any_net
from zeroforge.nn.checkpoint import (
    CHECKPOINT_KEY,
    FORMAT_VERSION,
    CheckpointError,
    checkpoint_dict,
    save_checkpoint,
)
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.nn.nfnet import NFNet


def _same_outputs(a, b) -> bool:
    planes = torch.rand(2, 18, 19, 19, generator=torch.Generator().manual_seed(0)) < 0.3
    with torch.no_grad():
        pa, va = a.eval()(planes.float())
        pb, vb = b.eval()(planes.float())
    return torch.allclose(pa, pb, atol=1e-5) and torch.allclose(va, vb, atol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    net = randomize_bn_stats(LZNet(1, 8, affine_gamma=True), seed=2)
    path = tmp_path / "net.ckpt"
    save_checkpoint(net, path, source="test")
    loaded = load_any_net(path)
    assert isinstance(loaded, LZNet) and not loaded.training
    assert loaded.config() == net.config()
    assert _same_outputs(net, loaded)
    raw = torch.load(path, weights_only=True)
    assert raw["zeroforge"]["network"]["kind"] == "lz" and raw["zeroforge"]["source"] == "test"
    assert all(k.startswith("net.") for k in raw["state_dict"])
    assert [p.name for p in tmp_path.iterdir()] == ["net.ckpt"]  # no temp file left


def test_lightning_style_checkpoint_with_other_keys(tmp_path):
    net = randomize_bn_stats(LZNet(1, 8), seed=4)
    ckpt = checkpoint_dict(net)
    ckpt["state_dict"]["ema.some_buffer"] = torch.zeros(3)  # not the network: ignored
    ckpt["optimizer_states"] = []
    ckpt["epoch"] = 3
    torch.save(ckpt, tmp_path / "last.ckpt")
    assert _same_outputs(net, load_any_net(tmp_path / "last.ckpt"))


def test_checkpoints_carry_a_version_and_refuse_one_they_cannot_read(tmp_path):
    net = randomize_bn_stats(LZNet(1, 8), seed=5)
    ckpt = checkpoint_dict(net)
    assert ckpt[CHECKPOINT_KEY]["format_version"] == FORMAT_VERSION == 1
    ckpt[CHECKPOINT_KEY]["format_version"] = 2
    torch.save(ckpt, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match=r"future\.ckpt: checkpoint format_version 2"):
        load_any_net(tmp_path / "future.ckpt")


def test_a_checkpoint_from_before_versions_reads_as_version_1(tmp_path):
    net = randomize_bn_stats(LZNet(1, 8), seed=7)
    ckpt = checkpoint_dict(net)
    del ckpt[CHECKPOINT_KEY]["format_version"]  # as written before versions
    torch.save(ckpt, tmp_path / "old.ckpt")
    assert _same_outputs(net, load_any_net(tmp_path / "old.ckpt"))
    ckpt[CHECKPOINT_KEY]["network"]["filters"] = 16  # a description its tensors do not fit
    torch.save(ckpt, tmp_path / "old-bad.ckpt")
    with pytest.raises(CheckpointError, match=r"old-bad\.ckpt: state_dict does not fit"):
        load_any_net(tmp_path / "old-bad.ckpt")


def test_nf_checkpoint(tmp_path):
    net = NFNet(1, 8)
    save_checkpoint(net, tmp_path / "nf.ckpt")
    assert isinstance(load_any_net(tmp_path / "nf.ckpt"), NFNet)


def test_weights_file_by_extension_and_by_content(tmp_path):
    net = randomize_bn_stats(LZNet(1, 8), seed=6)
    export_net(net, tmp_path / "w.gz")
    export_net(net, tmp_path / "weights")  # no extension: not a zip, so LZ text
    assert _same_outputs(net, load_any_net(tmp_path / "w.gz"))
    assert _same_outputs(net, load_any_net(tmp_path / "weights"))


class Evil:  # an arbitrary pickled object: weights_only loading must refuse it
    pass


def test_bad_checkpoints_name_the_file(tmp_path):
    net = LZNet(1, 8)
    no_section = checkpoint_dict(net)
    del no_section["zeroforge"]
    torch.save(no_section, tmp_path / "a.ckpt")
    with pytest.raises(CheckpointError, match="a.ckpt.*network"):
        load_any_net(tmp_path / "a.ckpt")
    wrong = checkpoint_dict(net)
    wrong["zeroforge"]["network"]["filters"] = 16
    torch.save(wrong, tmp_path / "b.ckpt")
    with pytest.raises(CheckpointError, match="b.ckpt.*does not fit"):
        load_any_net(tmp_path / "b.ckpt")
    torch.save({"x": Evil()}, tmp_path / "c.ckpt")
    with pytest.raises(CheckpointError, match="c.ckpt"):  # weights_only refuses pickles
        load_any_net(tmp_path / "c.ckpt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_any_net(tmp_path / "missing.ckpt")
