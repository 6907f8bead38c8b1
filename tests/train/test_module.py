"""The LightningModule learns: it overfits a tiny fixed set, in fp32 and in bf16-mixed on CPU."""

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader

from zeroforge.nn.checkpoint import build_network
from zeroforge.nn.lznet import LZNet
from zeroforge.train.module import CHECKPOINT_KEY, TrainModule


def tiny_set(positions: int, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    moves = torch.randint(0, 362, (positions,), generator=generator)
    return {
        "planes": torch.randint(
            0, 2, (positions, 18, 19, 19), generator=generator, dtype=torch.uint8
        ),
        "policy": torch.nn.functional.one_hot(moves, 362).float(),
        "z": torch.randint(0, 2, (positions,), generator=generator).float() * 2 - 1,
    }


def config(steps: int, optim: dict, channels_last: bool = False) -> dict:
    return {
        "network": {"kind": "lz", "norm": "bn", "blocks": 1, "filters": 16, "bn_momentum": 0.3},
        "optim": optim,
        "max_steps": steps,
        "channels_last": channels_last,
        "schedule": {"segments": [{"kind": "constant", "until": "100%", "from": 1.0}]},
        "loss": {"value_weight": 1.0},
        "init": {"kind": "default"},
        "seed": 0,
    }


def fit(module: TrainModule, batches: list, steps: int, precision: str = "32") -> pl.Trainer:
    trainer = pl.Trainer(
        max_steps=steps,
        max_epochs=-1,
        precision=precision,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(module, train_dataloaders=DataLoader(batches, batch_size=None))
    return trainer


def test_overfits_a_tiny_set():
    pl.seed_everything(0, verbose=False)
    batch = tiny_set(16)
    module = TrainModule(config(60, {"name": "adamw", "lr": 1e-2, "l2": 0.0}))
    before = module.compute_losses(batch)["policy_loss"].item()
    fit(module, [batch], 60)
    module.eval()
    after = module.compute_losses(batch)
    assert before > 5.0  # ln(362) = 5.9 for an untrained net
    assert after["policy_loss"].item() < 0.05
    assert after["accuracy"].item() == 1.0
    assert after["value_mse"].item() < 0.05


def test_bf16_mixed_channels_last_trains_on_cpu():
    pl.seed_everything(0, verbose=False)
    batch = tiny_set(16)
    module = TrainModule(config(12, {"name": "adamw", "lr": 1e-2}, channels_last=True))
    before = module.compute_losses(batch)["policy_loss"].item()
    seen = []
    module.on_before_optimizer_step = lambda optimizer: seen.append(
        module.net.input.conv.weight.is_contiguous(memory_format=torch.channels_last)
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        policy, _ = module(batch)
    assert policy.dtype == torch.bfloat16
    fit(module, [batch], 12, precision="bf16-mixed")
    assert seen and all(seen)
    assert module.net.input.conv.weight.dtype == torch.float32  # master weights stay fp32
    assert module.compute_losses(batch)["policy_loss"].item() < before - 0.5


def test_checkpoint_names_the_network():
    module = TrainModule(config(1, {"name": "sgd", "lr": 0.1}))
    checkpoint = {}
    module.on_save_checkpoint(checkpoint)
    assert checkpoint[CHECKPOINT_KEY]["network"]["blocks"] == 1
    assert all(k.startswith("net.") for k in module.state_dict())


def test_build_network_refuses_unknown_kinds():
    assert isinstance(build_network({"kind": "lz", "blocks": 1, "filters": 8}), LZNet)
    with pytest.raises(ValueError, match="norm='ln'"):
        build_network({"kind": "lz", "norm": "ln", "blocks": 1, "filters": 8})


def test_nodchip_init_sets_input_biases():
    cfg = config(1, {"name": "sgd", "lr": 0.1})
    cfg["init"] = {"kind": "input_bias", "value": 0.5, "noise": 0.1}
    beta = TrainModule(cfg).net.input.bn.bias.detach()
    assert 0.4 < beta.mean().item() < 0.6 and 0.05 < beta.std().item() < 0.2
    assert torch.equal(beta, TrainModule(cfg).net.input.bn.bias.detach())  # seeded


def test_16_mixed_runs_on_cpu():
    pl.seed_everything(0, verbose=False)
    batch = tiny_set(8)
    module = TrainModule(config(3, {"name": "sgd", "lr": 0.05}))
    fit(module, [batch], 3, precision="16-mixed")
    assert torch.isfinite(module.compute_losses(batch)["loss"]).item()
