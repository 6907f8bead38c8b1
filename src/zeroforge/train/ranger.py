"""Ranger (RAdam + Lookahead, pytorch-optimizer's) with lazy, row-sparse updates: a parameter
whose gradient arrives as a coalesced sparse tensor of rows (the chess feature transformer,
nn/sfnnv5.py `row_sparse_grad`) has only those rows updated.

Dense gradients take pytorch-optimizer's Ranger unchanged. For a row-sparse gradient with rows
R at step t (the group's one step count, as for every other parameter):

    rows in R      g centralised per row (`use_gc`), decoupled weight decay, then
                   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
                   w <- w - s_t m / (sqrt(v) + eps)  (s_t m while unrectified)
                   with RAdam's step size s_t of the global t: exactly the dense update
    rows not in R  nothing: w, m and v stay as they are

Against the dense update, where an untouched row's gradient is zero: there its moments decay
(m *= b1, v *= b2) and its weight keeps moving along m / sqrt(v) for the steps after a touch.
Lazily, moments keep their values until the row's next touch, and the drift is not applied: a
row touched at every step is updated exactly as densely (Adam works element by element); a row
touched now and then takes one step per touch, with moments averaged over its touches rather
than over time. Weight decay, when set, applies only to touched rows.

Lookahead (every k steps: slow <- slow + alpha (w - slow), w <- slow) runs over the rows
touched since the previous sync, the rows pending in state["unsynced"]. A row untouched since
then already has w == slow, where the dense sync is a no-op too: lazily it is the dense sync.

On a CPU, float32 rows are updated in one pass each by compiled C (train/csrc/rows.c); else
(a GPU, coupled weight decay, an unbuilt extension) by torch ops on gathered copies of the rows.
The two agree to float rounding (tests/train/test_ranger.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pytorch_optimizer import Ranger

try:
    from zeroforge.train import _rows as _compiled  # setup.py build_ext; else the torch update
except ImportError:  # pragma: no cover - a tree whose extension is not built yet
    _compiled = None


class LazyRanger(Ranger):
    compiled = _compiled is not None  # one pass per row in C (train/csrc/rows.c) where it fits

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:  # Lightning runs forward and backward here
            with torch.enable_grad():
                loss = closure()
        sparse = [
            (group, p, p.grad)
            for group in self.param_groups
            for p in group["params"]
            if p.grad is not None and p.grad.is_sparse
        ]
        for _, p, _ in sparse:
            p.grad = None  # pytorch-optimizer's step refuses them; it counts the steps
        try:
            super().step()
        finally:
            for _, p, grad in sparse:
                p.grad = grad
        for group, p, grad in sparse:
            self._update_rows(group, p, grad)
        return loss

    def _update_rows(self, group: dict, p: torch.Tensor, grad: torch.Tensor) -> None:
        state = self.state[p]
        if not state:  # the keys of pytorch-optimizer's state, and the rows awaiting a sync
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            state["slow_buffer"] = p.clone()
        if "unsynced" not in state:
            state["unsynced"] = torch.zeros(p.shape[0], dtype=torch.bool, device=p.device)
        elif state["unsynced"].dtype != torch.bool:  # load_state_dict casts to the param's dtype
            state["unsynced"] = state["unsynced"].bool()
        beta1, beta2 = group["betas"]
        step = group["step"]  # already counted by the dense step
        step_size, n_sma = self.get_rectify_step_size(
            is_rectify=True,
            step=step,
            lr=group["lr"],
            beta2=beta2,
            n_sma_threshold=self.n_sma_threshold,
            degenerated_to_sgd=self.degenerated_to_sgd,
        )
        step_size = self.apply_adam_debias(
            group.get("adam_debias", False), step_size, self.debias(beta1, step)
        )
        rows, g = _rows_and_values(grad)
        if self.maximize:
            g = -g
        if self.use_gc and p.dim() > self.gc_gradient_threshold:
            g = g - g.mean(dim=tuple(range(1, g.dim())), keepdim=True)
        rectified = n_sma >= self.n_sma_threshold
        if self.compiled and _fits_compiled(p, state, group):
            decay = 1.0 - group["weight_decay"] * (1.0 if group["fixed_decay"] else group["lr"])
            _compiled.rows_update(
                p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy(),
                g.float().contiguous().numpy(), rows.contiguous().numpy(), beta1, beta2,
                group["eps"], step_size, rectified, decay,
            )  # fmt: skip
        else:
            self._update_rows_torch(group, p, rows, g, step_size, rectified)
        state["unsynced"][rows] = True
        if step % group["k"] == 0:  # Lookahead
            pending = state["unsynced"].nonzero().squeeze(1)
            if self.compiled and _fits_compiled(p, state, group):
                _compiled.rows_lookahead(
                    p.detach().numpy(), state["slow_buffer"].numpy(), pending.numpy(),
                    p.shape[1], group["alpha"],
                )  # fmt: skip
            else:
                slow = _gathered(state["slow_buffer"], pending)
                slow.lerp_(_gathered(p, pending), weight=group["alpha"])
                state["slow_buffer"].index_copy_(0, pending, slow)
                p.index_copy_(0, pending, slow)
            state["unsynced"].zero_()

    def _update_rows_torch(self, group, p, rows, g, step_size: float, rectified: bool) -> None:
        """The same update as the compiled one, on gathered copies of the rows (any device)."""
        beta1, beta2 = group["betas"]
        state = self.state[p]
        weight, exp_avg, exp_avg_sq = (
            _gathered(x, rows) for x in (p, state["exp_avg"], state["exp_avg_sq"])
        )
        self.apply_weight_decay(
            weight, g, group["lr"], group["weight_decay"], group["weight_decouple"],
            group["fixed_decay"],
        )  # fmt: skip
        exp_avg.lerp_(g, weight=1.0 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
        if rectified:
            weight.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(group["eps"]), value=-step_size)
        else:
            weight.add_(exp_avg, alpha=-step_size)
        p.index_copy_(0, rows, weight)
        state["exp_avg"].index_copy_(0, rows, exp_avg)
        state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)


def _fits_compiled(p: torch.Tensor, state: dict, group: dict) -> bool:
    """The compiled update takes float32 CPU rows, and decoupled weight decay only."""
    tensors = (p, state["exp_avg"], state["exp_avg_sq"], state["slow_buffer"])
    return (
        all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
        and all(t.is_contiguous() and t.dim() == 2 for t in tensors)
        and (group["weight_decouple"] or group["weight_decay"] == 0.0)
    )


def _rows_and_values(grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(row indices, their gradient) of a sparse gradient, without coalescing one whose rows are
    already sorted and unique (autograd drops the `is_coalesced` flag when it stores a grad)."""
    rows = grad._indices()[0]
    if grad.is_coalesced() or bool((rows[1:] > rows[:-1]).all()):
        return rows, grad._values()
    grad = grad.coalesce()
    return grad.indices()[0], grad.values()


def _gathered(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """A copy of x's rows (an embedding lookup: index_select allocates its result slowly)."""
    return F.embedding(rows, x.detach()) if x.dim() == 2 else x.detach()[rows]
