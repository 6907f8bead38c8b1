"""Weight averaging (EMA or SWA) of the trained network, kept beside it by a Lightning callback.

The averaged copy is exported as its own net. Averaged weights do not match the running
batch-norm statistics collected along the way, so before export the copy's BN statistics are
recomputed from scratch on the most recent training batches (cumulative average, train mode).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from zeroforge.train.schedules import parse_until

AVERAGING_KINDS = ("none", "ema", "swa")


@torch.no_grad()
def refresh_batch_norm(net: nn.Module, batches: Iterable[Any], forward: Any = None) -> int:
    """Recompute every BN layer's running mean/var as the plain average over `batches` (network
    inputs, or batches that `forward(net, batch)` runs); a net without BN is left alone."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    forward = forward or (lambda module, planes: module(planes))
    momenta = {m: m.momentum for m in norms}
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    was_training = net.training
    net.train()
    count = 0
    for batch in batches:
        forward(net, batch)
        count += 1
    for m in norms:
        m.momentum = momenta[m]
    net.train(was_training)
    return count


class WeightAveraging(pl.Callback):
    """Keeps an EMA or SWA copy of `pl_module.net`; `averaged_net()` gives it BN-refreshed."""

    def __init__(self, cfg: Mapping[str, Any], max_steps: int):
        kind = cfg.get("kind", "none")
        if kind not in AVERAGING_KINDS[1:]:
            raise ValueError(f"averaging.kind: {kind!r} is not one of {AVERAGING_KINDS}")
        self.kind = kind
        self.decay = float(cfg.get("decay", 0.999))
        self.every = int(cfg.get("every", 1))
        self.start = parse_until(cfg.get("start", 0), max_steps)
        self.recent: deque[Any] = deque(maxlen=int(cfg.get("bn_refresh_batches", 8)))
        self.averaged: AveragedModel | None = None
        self._pending_state: dict[str, Any] | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        multi_avg_fn = get_ema_multi_avg_fn(self.decay) if self.kind == "ema" else None
        self.averaged = AveragedModel(pl_module.net, multi_avg_fn=multi_avg_fn)
        self.averaged.requires_grad_(False)
        if self._pending_state is not None:
            self.averaged.load_state_dict(self._pending_state)
            self._pending_state = None

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.recent.append({key: value.detach() for key, value in batch.items()})
        step = trainer.global_step
        if step >= self.start and step % self.every == 0:
            self.averaged.update_parameters(pl_module.net)

    def averaged_net(self, pl_module: pl.LightningModule) -> nn.Module:
        """A copy of the averaged network with BN statistics refreshed on recent batches."""
        net = copy.deepcopy(self.averaged.module)
        with torch.autocast(pl_module.device.type, enabled=False):
            refresh_batch_norm(net, self.recent, pl_module.game.forward)
        return net.eval()

    def state_dict(self) -> dict[str, Any]:
        return {"averaged": self.averaged.state_dict()} if self.averaged is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "averaged" not in state_dict:
            return
        if self.averaged is None:
            self._pending_state = state_dict["averaged"]
        else:
            self.averaged.load_state_dict(state_dict["averaged"])
