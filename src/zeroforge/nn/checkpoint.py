"""Our checkpoints: a network as `torch.save`d tensors plus the description that rebuilds it
(`build_network`), read with `torch.load(..., weights_only=True)` (never a pickle of arbitrary
objects). Engine files (Leela Zero weights, .nnue) are turned into networks above this layer,
in `convert/` (`convert.nets.load_any_net` takes any of the three).

Our checkpoint convention (Lightning's own keys plus one of ours):

    checkpoint["state_dict"]       {"net.<parameter or buffer name>": tensor, ...}: the network
                                   is the attribute `net` of the LightningModule; other keys
                                   (not starting with `net.`) are ignored here
    checkpoint["hyper_parameters"] Lightning's (plain dicts, lists, numbers, strings only, or
                                   weights_only loading refuses the file)
    checkpoint["zeroforge"]        {"format_version": 1,
                                    "network": {"kind": "lz", "norm": "bn", "blocks": 6,
                                                "filters": 64, "bn_momentum": 0.01,
                                                "affine_gamma": False,
                                                "head": "conv3",
                                                "head_residual_l2": 0.01,
                                                "aux_heads": False}}
                                   i.e. what `build_network` needs: `LZNet.config()` /
                                   `NFNet.config()` (kind "nf": blocks, filters, activation,
                                   alpha) / `SFNNv5.config()` (kind "sfnnv5": factorized,
                                   description) / conf/network/*.yaml; an LZ/NF net without
                                   `head` has plain FC layers ("lz", nn/heads.py); one with
                                   `aux_heads` has the training-only heads of nn/aux_heads.py

`format_version` numbers the layout of our section (FORMAT_VERSION); a checkpoint of another
version is refused with a message naming the file. Checkpoints written before versions have no
`format_version` and the same layout: they are read as version 1 (and refused all the same if
their network description does not fit their tensors).

`save_checkpoint(model, path)` writes that format (atomically) for `zeroforge weights import`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zeroforge.atomic import atomic_open

CHECKPOINT_KEY = "zeroforge"  # our own section of a Lightning checkpoint
FORMAT_VERSION = 1  # of that section's layout; none written (before versions): 1
NET_PREFIX = "net."  # the network's attribute name in the LightningModule


class CheckpointError(ValueError):
    """A checkpoint we cannot turn into a network; the message names the file."""


def build_network(cfg: Mapping[str, Any]) -> nn.Module:
    """A fresh network from its description (`LZNet.config()`, `NFNet.config()`)."""
    kind = cfg.get("kind", "lz")
    if kind == "sfnnv5":
        from zeroforge.nn.sfnnv5 import SFNNv5

        return SFNNv5(bool(cfg.get("factorized", False)), str(cfg.get("description", "")))
    # checkpoints from before nn/heads.py have no `head`: they hold plain FC layers
    head = {k: cfg[k] for k in ("head", "head_residual_l2", "aux_heads") if k in cfg}
    if kind == "lz" and cfg.get("norm", "bn") == "bn":
        from zeroforge.nn.lznet import LZNet

        return LZNet(
            int(cfg["blocks"]),
            int(cfg["filters"]),
            bn_momentum=float(cfg.get("bn_momentum", 0.01)),
            affine_gamma=bool(cfg.get("affine_gamma", False)),
            **head,
        )
    if kind == "nf" or cfg.get("norm") == "nf":  # conf/network: kind lz, norm nf
        from zeroforge.nn.nfnet import NFNet

        options = {k: cfg[k] for k in ("activation", "alpha") if k in cfg}
        return NFNet(int(cfg["blocks"]), int(cfg["filters"]), **options, **head)
    raise ValueError(
        f"network: kind={kind!r} norm={cfg.get('norm', 'bn')!r} is not a known network"
    )


def read_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict:
    """torch.load with weights_only=True, errors naming the file."""
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as exc:  # torch raises many kinds for a foreign or damaged file
        raise CheckpointError(f"{path}: not a readable checkpoint: {exc}") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path}: a checkpoint is a dict, got {type(checkpoint).__name__}")
    check_version(checkpoint, path)
    return checkpoint


def check_version(checkpoint: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Refuse a checkpoint whose section has a `format_version` this code cannot read."""
    section = checkpoint.get(CHECKPOINT_KEY)
    if not isinstance(section, Mapping):
        return  # not ours, or from before the section: net_from_checkpoint says what is missing
    version = section.get("format_version", 1)
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format_version {version!r}; this zeroforge reads version "
            f"{FORMAT_VERSION} (and checkpoints without a version, written before versions)"
        )


def checkpoint_section(network: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Our section of a checkpoint: the layout's version and the network's description."""
    return {"format_version": FORMAT_VERSION, "network": dict(network), **extra}


def net_from_checkpoint(checkpoint: Mapping[str, Any], path: str | os.PathLike) -> nn.Module:
    section = checkpoint.get(CHECKPOINT_KEY, {})
    network = section.get("network") if isinstance(section, Mapping) else None
    if not isinstance(network, Mapping):
        raise CheckpointError(
            f"{path}: no checkpoint[{CHECKPOINT_KEY!r}]['network'] describing the network "
            "(written by zeroforge training and `zeroforge weights import`)"
        )
    state = checkpoint.get("state_dict", {})
    net_state = {k[len(NET_PREFIX) :]: v for k, v in state.items() if k.startswith(NET_PREFIX)}
    if not net_state:
        raise CheckpointError(f"{path}: state_dict has no `{NET_PREFIX}*` entries")
    try:
        model = build_network(network)
        model.load_state_dict(net_state)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: state_dict does not fit {dict(network)}: {exc}") from None
    return model.eval()


def checkpoint_dict(model: nn.Module, **extra: Any) -> dict:
    """Our checkpoint of a bare network: Lightning's keys plus `zeroforge.network`."""
    network = model.config()
    state = {NET_PREFIX + k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {
        "state_dict": state,
        "hyper_parameters": {"config": {"network": dict(network)}},
        CHECKPOINT_KEY: checkpoint_section(network, **extra),
    }


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **extra: Any) -> None:
    """Write `checkpoint_dict(model)` atomically (temp file in the same folder, then replace)."""
    path = Path(path)
    with atomic_open(path) as handle:
        torch.save(checkpoint_dict(model, **extra), handle)
