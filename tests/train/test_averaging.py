"""EMA/SWA copies follow their formulas, survive a checkpoint, and get fresh BN statistics."""

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader

from tests.train.test_module import config, tiny_set
from zeroforge.nn.lznet import LZNet
from zeroforge.train.averaging import WeightAveraging, refresh_batch_norm
from zeroforge.train.module import TrainModule


class RecordParameters(pl.Callback):
    def __init__(self):
        self.history = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.history.append({k: v.detach().clone() for k, v in pl_module.net.named_parameters()})


def train_with(averaging: WeightAveraging, steps: int = 5):
    pl.seed_everything(0, verbose=False)
    module = TrainModule(config(steps, {"name": "sgd", "lr": 0.1}))
    record = RecordParameters()
    batches = [tiny_set(8, seed) for seed in range(steps)]
    trainer = pl.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        limit_val_batches=0,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[record, averaging],
    )
    trainer.fit(module, train_dataloaders=DataLoader(batches, batch_size=None))
    return module, record.history


def test_ema_follows_its_formula_and_round_trips():
    ema = WeightAveraging({"kind": "ema", "decay": 0.8, "bn_refresh_batches": 2}, 5)
    module, history = train_with(ema)
    expected = dict(history[0])  # the first update copies the weights
    for params in history[1:]:
        expected = {k: 0.8 * expected[k] + 0.2 * params[k] for k in expected}
    got = dict(ema.averaged.module.named_parameters())
    for name, value in expected.items():
        assert torch.allclose(got[name], value, atol=1e-6), name
    assert not torch.equal(got["input.conv.weight"], history[-1]["input.conv.weight"])

    again = WeightAveraging({"kind": "ema", "decay": 0.8}, 5)
    again.load_state_dict(ema.state_dict())
    again.on_fit_start(None, module)
    for name, value in again.averaged.module.named_parameters():
        assert torch.equal(value, got[name])


def test_swa_is_the_plain_mean_from_its_start():
    swa = WeightAveraging({"kind": "swa", "start": "60%", "every": 1}, 5)
    _, history = train_with(swa)
    tail = history[2:]  # steps 3, 4, 5 (global step >= 3 = 60 % of 5)
    got = dict(swa.averaged.module.named_parameters())
    for name in got:
        mean = sum(params[name] for params in tail) / len(tail)
        assert torch.allclose(got[name], mean, atol=1e-6), name


def test_bn_refresh_uses_exactly_the_given_batches():
    torch.manual_seed(0)
    net = LZNet(1, 4)
    batch = (torch.rand(6, 18, 19, 19) < 0.3).float()
    assert refresh_batch_norm(net, [batch]) == 1
    pre_bn = net.input.conv(batch)
    bn = net.input.bn
    assert torch.allclose(bn.running_mean, pre_bn.mean((0, 2, 3)), atol=1e-5)
    assert torch.allclose(bn.running_var, pre_bn.var((0, 2, 3), unbiased=True), atol=1e-5)
    assert bn.momentum == 0.01  # restored


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="averaging.kind"):
        WeightAveraging({"kind": "polyak"}, 10)
