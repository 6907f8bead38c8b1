"""`init_from=PATH`: a run starts from an existing net's weights (fresh optimizer, schedule and
step) and its first validation, before any step, is that net's own loss on the same data."""

import csv

import pytest
import torch

from tests.conftest import make_positions
from tests.train.chunks import train_args, write_chunks
from zeroforge.chess.nnue_arch import HALFKP
from zeroforge.commands.train import main
from zeroforge.convert.lzweights import export_net
from zeroforge.convert.nets import load_any_net
from zeroforge.data.dataset import make_batch
from zeroforge.data.files import read_text_chunk
from zeroforge.formats.chunks import write_chunk
from zeroforge.formats.nnue import random_net, write_nnue
from zeroforge.nn.checkpoint import save_checkpoint
from zeroforge.nn.lznet import LZNet
from zeroforge.train import losses


def a_net(seed: int) -> LZNet:
    """A 2x16 net far from PyTorch's initialisation, with its own BN statistics."""
    torch.manual_seed(seed)
    net = LZNet(2, 16)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(torch.rand_like(tensor) + 0.5)
            elif tensor.is_floating_point() and not name.endswith(".weight"):
                tensor.add_(torch.randn_like(tensor) * 0.3)
            elif tensor.is_floating_point() and tensor.dim() > 1:
                tensor.mul_(1.5)
    return net.eval()


def direct_losses(net, val_file) -> tuple[float, float]:
    """Policy cross-entropy and value MSE of `net` (eval mode) over every position of a file."""
    records, _, _ = read_text_chunk(str(val_file))
    batch = make_batch(records, None)
    with torch.no_grad():
        logits, value = net.eval()(batch["planes"].float())
    policy = losses.policy_cross_entropy(logits, batch["policy"])
    return float(policy), float(losses.value_mse(value, batch["z"]))


def metrics(run) -> list[dict]:
    with open(run / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def data(tmp_path):
    chunks = write_chunks(tmp_path / "chunks", files=2, positions=64)
    val = tmp_path / "val" / "val.0.gz"
    val.parent.mkdir()
    write_chunk(val, make_positions(50, seed=99))  # 2 validation batches of 32: all of it
    return chunks, val


def run_from(source, data, run, *extra) -> list[dict]:
    chunks, val = data
    args = [f"init_from={source}", f"data.val={val.parent}", "data.val_batches=10"]
    args += ["train.val_every=2", "schedule=flat", "optim.lr=0.03", "train.export_every=0"]
    assert main(train_args(chunks, run, 2, *args, *extra)) == 0
    return metrics(run)


@pytest.mark.parametrize("kind", ["lz-weights", "weights-import", "lightning"])
def test_a_run_from_a_net_starts_at_that_nets_loss(kind, data, tmp_path):
    if kind == "lz-weights":
        source = tmp_path / "net.txt.gz"
        export_net(a_net(5), source)
    elif kind == "weights-import":
        source = tmp_path / "net.ckpt"
        save_checkpoint(a_net(5), source)
    else:  # a checkpoint of an earlier run (itself from a net), optimizer state and all
        export_net(a_net(5), tmp_path / "net.txt.gz")
        earlier = (f"init_from={tmp_path / 'net.txt.gz'}", "train.export_every=0")
        assert main(train_args(data[0], tmp_path / "earlier", 3, *earlier)) == 0
        source = tmp_path / "earlier" / "checkpoints" / "last.ckpt"
    rows = run_from(source, data, tmp_path / "run")

    first = rows[0]
    assert int(first["step"]) == 0 and first["val_loss"] and not first["loss"]
    policy, value = direct_losses(load_any_net(source), data[1])
    assert float(first["val_policy_loss"]) == pytest.approx(policy, rel=1e-5)
    assert float(first["val_value_mse"]) == pytest.approx(value, rel=1e-5, abs=1e-6)
    fresh = direct_losses(LZNet(2, 16), data[1])  # where a run without init_from would start
    assert abs(fresh[0] - policy) > 0.01
    # weights only: the step count and the schedule start again
    train_rows = [r for r in rows if r["loss"]]
    assert [int(r["step"]) for r in train_rows] == [1, 2]
    assert float(train_rows[0]["lr"]) == pytest.approx(0.03)
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 2


def test_the_network_shape_comes_from_the_file(data, tmp_path, caplog):
    source = tmp_path / "net.txt.gz"
    export_net(a_net(1), source)
    run_from(source, data, tmp_path / "run", "network=6x64")
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "blocks: 2\n" in config and "filters: 16\n" in config
    assert "the config's 6x64 is replaced by the file's shape" in caplog.text


@pytest.mark.parametrize("content", [None, b"1\n0.5 abc\n", b"PK\x03\x04not a zip"])
def test_a_bad_init_from_names_the_file(content, data, tmp_path, capsys):
    source = tmp_path / "bad.ckpt"
    if content is not None:
        source.write_bytes(content)
    chunks, _ = data
    assert main(train_args(chunks, tmp_path / "run", 2, f"init_from={source}")) == 1
    err = capsys.readouterr().err
    assert err.startswith("zeroforge train: ") and str(source) in err and "Traceback" not in err


def test_init_from_a_halfkp_net_names_the_file(data, tmp_path, capsys):
    source = tmp_path / "kp.nnue"
    write_nnue(random_net(HALFKP), source)
    chunks, _ = data
    assert main(train_args(chunks, tmp_path / "run", 2, f"init_from={source}")) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"zeroforge train: {source}: ") and "HalfKP" in err
