"""Adaptive gradient clipping (AGC, Brock et al. 2021, "High-Performance Large-Scale Image
Recognition Without Normalization"), for any network and any optimizer.

For each unit i of a parameter (a row along dim 0: one output channel of a conv, one output of a
linear layer; a bias, gain or scalar is one unit as a whole, as in the paper's reference code):
    if ||g_i|| / max(||w_i||, eps) > clip:   g_i <- g_i * clip * max(||w_i||, eps) / ||g_i||
Norms are Frobenius norms over all dims but 0. Call it on the true (unscaled) gradients: with
AMP, after the GradScaler has unscaled them (Lightning's `on_before_optimizer_step` runs there).
The final layers of the heads are excluded by NAME (`DEFAULT_EXCLUDE`), as the paper excludes
the classifier; a pattern that matches no parameter is an error, so a typo cannot silently
clip everything.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

import torch
from torch import nn

DEFAULT_CLIP = 0.01
DEFAULT_EPS = 1e-3
DEFAULT_EXCLUDE = ("policy_fc", "value_fc2")  # the heads' final layers (nn.lznet, nn.nfnet)
GRAD_NORM_FLOOR = 1e-6  # avoids 0/0 where a unit's gradient is exactly zero (never clipped)


def unitwise_norm(x: torch.Tensor) -> torch.Tensor:
    """Norm of each unit (dim 0) of x, shaped to broadcast against x; one norm if ndim <= 1."""
    if x.ndim <= 1:
        return x.norm()
    return torch.linalg.vector_norm(x, dim=tuple(range(1, x.ndim)), keepdim=True)


def name_matches(name: str, pattern: str) -> bool:
    """True if `pattern` (dotted, fnmatch globs per part) is a run of parts of the name.

    `policy_fc` matches `policy_fc.weight` and `net.policy_fc.bias`, not `policy_fc2.weight`.
    """
    parts, wanted = name.split("."), pattern.split(".")
    for start in range(len(parts) - len(wanted) + 1):
        window = parts[start : start + len(wanted)]
        if all(fnmatch.fnmatchcase(p, w) for p, w in zip(window, wanted, strict=True)):
            return True
    return False


def agc_parameters(
    model: nn.Module, exclude: Sequence[str] = DEFAULT_EXCLUDE
) -> list[nn.Parameter]:
    """The trainable parameters of `model` that AGC clips (all but those named in `exclude`)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    for pattern in exclude:
        if not any(name_matches(n, pattern) for n, _ in named):
            raise ValueError(
                f"AGC exclude pattern {pattern!r} matches no trainable parameter of "
                f"{type(model).__name__} (names look like {named[-1][0] if named else 'none'!r})"
            )
    return [p for n, p in named if not any(name_matches(n, pat) for pat in exclude)]


@torch.no_grad()
def adaptive_clip_grad_(
    parameters: Iterable[torch.Tensor], clip: float = DEFAULT_CLIP, eps: float = DEFAULT_EPS
) -> None:
    """Clip the gradients of `parameters` in place, unit by unit (module docstring)."""
    if clip <= 0 or eps <= 0:
        raise ValueError(f"AGC needs clip > 0 and eps > 0, got clip={clip}, eps={eps}")
    for param in parameters:
        grad = param.grad
        if grad is None:
            continue
        if grad.is_sparse:
            raise ValueError(
                "AGC clips dense gradients only; this weight's is row-sparse (optim.lazy_rows: "
                "set it to false to use optim.agc_clip)"
            )
        dtype = torch.promote_types(grad.dtype, torch.float32)  # norms of half grads in fp32
        max_norm = unitwise_norm(param.detach().to(dtype)).clamp_min(eps) * clip
        grad_norm = unitwise_norm(grad.to(dtype))
        factor = max_norm / grad_norm.clamp_min(GRAD_NORM_FLOOR)
        scale = torch.where(grad_norm > max_norm, factor, torch.ones_like(factor))
        grad.mul_(scale.to(grad.dtype))


class AdaptiveGradClipper:
    """AGC bound to one model: `clipper()` before each optimizer step."""

    def __init__(
        self,
        model: nn.Module,
        clip: float = DEFAULT_CLIP,
        eps: float = DEFAULT_EPS,
        exclude: Sequence[str] = DEFAULT_EXCLUDE,
    ):
        self.params = agc_parameters(model, exclude)
        self.clip, self.eps = clip, eps

    def __call__(self) -> None:
        adaptive_clip_grad_(self.params, self.clip, self.eps)
