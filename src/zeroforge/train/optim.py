"""Optimisers of the `optim` config group: SGD with Nesterov momentum (Leela Zero), AdamW, Ranger.

L2 regularisation is a loss term (losses.l2_penalty, `optim.l2`), as in Leela Zero, so every
optimiser sees the same objective. AdamW's decoupled `weight_decay` applies, when set, to the same
parameters as L2 (the game's choice: conv and FC weights for Go, every weight for chess), never
to biases or batch-norm betas.

`optim.lazy_rows` (Ranger only; on in `ranger_nnue`): modules that can hand over a row-sparse
gradient (an attribute `row_sparse_grad`, the chess feature transformer) are switched to it, and
Ranger updates only the rows a batch touches (train/ranger.py says how that differs from the
dense update). A dense gradient on the same weight (e.g. `optim.l2` > 0, whose term covers every
row) turns the update dense again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zeroforge.train.losses import regularized_parameters

OPTIMIZERS = ("sgd", "adamw", "ranger")


def parameter_groups(
    model: nn.Module, weight_decay: float, decayed: list[nn.Parameter] | None = None
) -> list[dict[str, Any]]:
    """Trainable parameters split into a decayed group (`decayed`, by default the conv/FC
    weights) and the rest."""
    decayed = {id(p) for p in (regularized_parameters(model) if decayed is None else decayed)}
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if id(p) in decayed], "weight_decay": weight_decay},
        {"params": [p for p in trainable if id(p) not in decayed], "weight_decay": 0.0},
    ]


def use_row_sparse_gradients(model: nn.Module) -> None:
    """Switch every module that can give a row-sparse weight gradient to giving one."""
    for module in model.modules():
        if hasattr(module, "row_sparse_grad"):
            module.row_sparse_grad = True


def build_optimizer(
    cfg: Mapping[str, Any], model: nn.Module, decayed: list[nn.Parameter] | None = None
) -> torch.optim.Optimizer:
    """The optimiser named by `cfg.name` over the model's trainable parameters (`decayed`: the
    ones weight decay applies to, by default conv/FC weights)."""
    name = cfg["name"]
    groups = parameter_groups(model, float(cfg.get("weight_decay", 0.0)), decayed)
    lr = float(cfg["lr"])
    lazy_rows = bool(cfg.get("lazy_rows", False))
    if lazy_rows and name != "ranger":
        raise ValueError(f"optim.lazy_rows: only ranger updates rows lazily, not {name!r}")
    if name == "sgd":
        return torch.optim.SGD(
            groups,
            lr=lr,
            momentum=float(cfg.get("momentum", 0.9)),
            nesterov=bool(cfg.get("nesterov", True)),
        )
    if name == "adamw":
        return torch.optim.AdamW(
            groups,
            lr=lr,
            betas=tuple(cfg.get("betas", (0.9, 0.999))),
            eps=float(cfg.get("eps", 1e-8)),
        )
    if name == "ranger":
        from zeroforge.train.ranger import LazyRanger  # dense gradients: Ranger unchanged

        if lazy_rows:
            use_row_sparse_gradients(model)
        return LazyRanger(
            groups,
            lr=lr,
            betas=tuple(cfg.get("betas", (0.95, 0.999))),
            eps=float(cfg.get("eps", 1e-5)),
            # nnue-pytorch's Ranger: momentum SGD steps while RAdam's variance is unrectified
            # (pytorch_optimizer's default skips those first ~5 steps), no gradient centralisation
            degenerated_to_sgd=bool(cfg.get("degenerated_to_sgd", False)),
            use_gc=bool(cfg.get("use_gc", True)),
        )
    raise ValueError(f"optim.name: {name!r} is not one of {OPTIMIZERS}")
