"""SFNNv5, the NNUE network of Stockfish 15.1, in floating point for training.

Read top to bottom, as Stockfish computes it (shapes from `chess.nnue_arch.SFNNV5`):

    feature transformer  per perspective (shared weights): the sum of the weight rows of its
                         ~30 active HalfKAv2_hm features (22,528 in all) plus a bias, 1,024
                         units, and 8 PSQT columns beside them (no bias: it cancels below)
    pairwise product     clamp(a, 0, 1) of units j and j + 512 multiplied (x 127/128, the
                         integer net's /128), side to move's 512 first, then the other side's
    layer stack          one of 8 chosen by (pieces - 1) // 4: fc_0 1024 -> 16; its 16th output
                         is a skip straight to the result; the other 15 go in twice, squared
                         (x 127/128) and plain, both clamped to [0, 1]: fc_1 30 -> 32, clamp,
                         fc_2 32 -> 1
    result               fc_2 + skip + (PSQT of the side to move - the other side's) / 2, in
                         units of 600 internal Stockfish units (NNUE2SCORE)

The transformer is sparse: a batch gives, per perspective, the active feature indices [B, K]
(-1 pads a row), summed with `F.embedding_bag`, never a dense [B, 22528] matmul. With
`factorized`, each feature also adds a virtual "A" feature shared by all 32 king buckets (its
piece-square, nnue-pytorch's HalfKAv2_hm^), which learns what is common to the buckets; the
exporter folds it into the real rows (`convert.nnue`).

A batch touches a few thousand of the 22,528 rows (`active_rows`): the sum runs over those rows
gathered once (virtual rows folded in, so each feature costs one row, not two), and the backward
pass sums the output gradients per touched row the same way (an embedding bag over the output
gradient, bags grouped by row). The weight's gradient is then either dense, or, with
`row_sparse_grad` (set by an optimiser that updates rows lazily, train/optim.py), a coalesced
sparse tensor holding only the touched rows: no [23232, 1032] zero-fill or dense update per step.

The layer stacks are held as one Linear per layer with 8x the outputs (the 8 stacks' rows one
after another, as the exporter writes them). The forward pass sorts the batch by layer stack
first (it permutes the transformer's input rows, so everything after is in stack order, and
unpermutes the scores at the end); each layer then multiplies each stack's positions by that
stack's rows only (`_StackLinear`): one stack's matmul per position instead of all 8, the same
function and gradient. The pairwise product runs both perspectives in one pass with a backward
that writes each unit's gradient once (`_Pairwise`). The stacks' matmuls stay float32 under
bf16 autocast: at one stack per position they are small, and bf16's casts cost more than its
arithmetic saves (the whole net is then float32 under autocast: the transformer's sums always
were). That is the CPU's step; on a GPU, where one matmul over every stack costs less than 24
small ones, `forward` is `plain_forward` over the touched rows. `plain_forward` is the same
function in plain autograd ops (one embedding bag over the whole weight, every stack computed
and the used one gathered): the reference the tests and `bench` compare against.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.chess.features import NUM_BUCKETS, NUM_FEATURES, PLANE_SIZE
from zeroforge.chess.nnue_arch import HIDDEN_WEIGHT_SCALE, OUTPUT_WEIGHT_SCALE, SFNNV5

# the virtual "A" feature of feature i is i % PLANE_SIZE (704: its piece and square)
HALF_DIMS = SFNNV5.half_dims  # 1,024 transformer units per perspective
PSQT_BUCKETS = SFNNV5.psqt_buckets
STACKS = SFNNV5.stacks
FC0_OUT = SFNNV5.layers[0][1]  # 16: 15 hidden units and the skip
FC1_IN, FC1_OUT = SFNNV5.layers[1]  # 30 -> 32
NNUE2SCORE = 600.0  # internal units per unit of network output (the quantisation's 600*16/16)
SQUARE_SCALE = 127 / 128  # the integer net's (x*x) >> 19 on x at scale 127*64, and a*b/128
# nnue-pytorch's initial PSQT values (internal units) for own pieces; theirs are negated
PIECE_VALUES = (126, 781, 825, 1276, 2538)  # pawn, knight, bishop, rook, queen


def psqt_initial_values() -> torch.Tensor:
    """[NUM_FEATURES] material of each feature's piece in internal units (kings 0)."""
    plane_values = torch.zeros(PLANE_SIZE // 64)
    for kind, value in enumerate(PIECE_VALUES):
        plane_values[2 * kind], plane_values[2 * kind + 1] = value, -value
    per_bucket = plane_values.repeat_interleave(64)
    return per_bucket.repeat(NUM_BUCKETS)


class FeatureTransformer(nn.Module):
    """Sparse affine map of active features to 1,024 units + 8 PSQT columns per perspective."""

    def __init__(self, factorized: bool = False):
        super().__init__()
        self.factorized = factorized
        self.row_sparse_grad = False  # the weight's gradient: dense, or only the touched rows
        rows = NUM_FEATURES + (PLANE_SIZE if factorized else 0)
        bound = NUM_FEATURES**-0.5  # nn.Linear's default for this many inputs
        self.weight = nn.Parameter(
            torch.empty(rows, HALF_DIMS + PSQT_BUCKETS).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(HALF_DIMS).uniform_(-bound, bound))
        with torch.no_grad():
            self.weight[NUM_FEATURES:] = 0.0  # virtual rows start neutral (folded at export)
            self.weight[:NUM_FEATURES, HALF_DIMS:] = (
                psqt_initial_values()[:, None] / NNUE2SCORE
            ).expand(-1, PSQT_BUCKETS)

    def forward(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """indices [B, K] (int, -1 = none) -> (units [B, 1024], psqt [B, 8])."""
        return _ActiveRowSum.apply(
            self.weight, self.bias, indices, self.factorized, self.row_sparse_grad
        )

    def plain_forward(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward` as one embedding bag over the whole weight, virtual rows as extra
        features; autograd's dense gradient (the reference, and the step before active rows)."""
        present = indices >= 0
        indices = indices.clamp(min=0).long()
        if self.factorized:
            indices = torch.cat([indices, NUM_FEATURES + indices % PLANE_SIZE], dim=1)
            present = torch.cat([present, present], dim=1)
        weights = present.to(self.weight.dtype)
        summed = F.embedding_bag(indices, self.weight, mode="sum", per_sample_weights=weights)
        return summed[:, :HALF_DIMS] + self.bias, summed[:, HALF_DIMS:]

    def real_weight(self) -> torch.Tensor:
        """[NUM_FEATURES, 1032] with the virtual rows folded in: what the engine's file holds."""
        weight = self.weight[:NUM_FEATURES]
        if not self.factorized:
            return weight
        virtual = self.weight[NUM_FEATURES:]
        return weight + virtual.repeat(NUM_BUCKETS, 1)


class ActiveRows:
    """The real rows a batch of feature indices touches, and each entry's place among them."""

    def __init__(self, indices: torch.Tensor):
        present = indices >= 0
        self.counts = present.sum(1)  # active features per bag
        self.offsets = self.counts.cumsum(0) - self.counts
        entries = indices[present].long()  # bag after bag
        touched = torch.zeros(NUM_FEATURES, dtype=torch.bool, device=indices.device)
        touched[entries] = True
        self.rows = touched.nonzero().squeeze(1)  # sorted
        place = torch.empty_like(touched, dtype=torch.long)
        place[self.rows] = torch.arange(len(self.rows), device=indices.device)
        self.local = place[entries]  # each entry's row among self.rows

    def per_row(self, grad_out: torch.Tensor, extra: int = 0) -> torch.Tensor:
        """[bags, C] -> [rows + extra, C]: each row's sum over the bags that hold it (the
        transpose of the forward sum, as one embedding bag over `grad_out` with bags grouped by
        row), then `extra` rows of zeros (empty bags) for the caller to fill."""
        order = torch.argsort(self.local, stable=True)
        bags = torch.arange(len(self.counts), device=self.counts.device)
        bag = torch.repeat_interleave(bags, self.counts)[order]
        per_row = torch.bincount(self.local, minlength=len(self.rows))
        offsets = F.pad(per_row.cumsum(0) - per_row, (0, extra), value=len(bag))
        return F.embedding_bag(bag, grad_out, offsets, mode="sum")


class _ActiveRowSum(torch.autograd.Function):
    """Sum of the weight rows of each bag's active features (plus their virtual rows), as
    (units + bias, psqt): two outputs, so the backward takes their gradients side by side
    instead of autograd's two zero-filled full-width buffers (one per slice) added up."""

    @staticmethod
    def forward(ctx, weight, bias, indices, factorized: bool, row_sparse: bool):
        active = ActiveRows(indices.to(weight.device))
        if factorized:  # each real row plus its virtual row, as bags of two
            pairs = torch.stack([active.rows, NUM_FEATURES + active.rows % PLANE_SIZE], dim=1)
            rows = F.embedding_bag(pairs, weight, mode="sum")
        else:
            rows = F.embedding(active.rows, weight)
        ctx.active, ctx.factorized, ctx.row_sparse = active, factorized, row_sparse
        ctx.shape = weight.shape
        summed = F.embedding_bag(active.local, rows, active.offsets, mode="sum")
        return summed[:, :HALF_DIMS] + bias, summed[:, HALF_DIMS:].contiguous()

    @staticmethod
    def backward(ctx, grad_units, grad_psqt):
        active = ctx.active
        grad_out = torch.cat([grad_units, grad_psqt], dim=1)
        rows = active.rows
        if ctx.factorized:  # a virtual row's gradient: the sum over the real rows sharing it
            planes, plane = torch.unique(rows % PLANE_SIZE, return_inverse=True)
            grads = active.per_row(grad_out, extra=len(planes))
            real = len(rows)
            grads[real:].index_add_(0, plane, grads[:real])
            rows = torch.cat([rows, NUM_FEATURES + planes])
        else:
            grads = active.per_row(grad_out)
        if ctx.row_sparse:
            grad = torch.sparse_coo_tensor(
                rows[None], grads, ctx.shape, is_coalesced=True, check_invariants=False
            )
        else:
            grad = grads.new_zeros(ctx.shape).index_copy_(0, rows, grads)
        return grad, grad_units.sum(0), None, None, None


def clipped(x: torch.Tensor) -> torch.Tensor:
    """clamp(x, 0, 1); hardtanh's backward is one fused pass (clamp's takes four)."""
    return F.hardtanh(x, 0.0, 1.0)


def pairwise(units: torch.Tensor) -> torch.Tensor:
    clipped_units = clipped(units)
    half = HALF_DIMS // 2
    return clipped_units[:, :half] * clipped_units[:, half:] * SQUARE_SCALE


class _Pairwise(torch.autograd.Function):
    """Both perspectives' `pairwise` in one pass: units [2B, 1024] (the side to move's B rows,
    then the other side's) -> [B, 1024] (the side to move's 512 products, then the other's).
    The backward writes each unit's gradient once, where autograd's slices would zero-fill a
    full-size buffer per half and add them; the values are the same products."""

    @staticmethod
    def forward(ctx, units):
        clamped = clipped(units)
        n, half = units.shape[0] // 2, HALF_DIMS // 2
        out = units.new_empty(n, HALF_DIMS)
        for side in range(2):
            rows = clamped[side * n : (side + 1) * n]
            torch.mul(rows[:, :half], rows[:, half:], out=out[:, side * half : (side + 1) * half])
        ctx.save_for_backward(units, clamped)
        return out.mul_(SQUARE_SCALE)

    @staticmethod
    def backward(ctx, grad):
        units, clamped = ctx.saved_tensors
        n, half = units.shape[0] // 2, HALF_DIMS // 2
        scaled = grad * SQUARE_SCALE
        out = torch.empty_like(units)
        for side in range(2):
            rows, target = clamped[side * n : (side + 1) * n], out[side * n : (side + 1) * n]
            g = scaled[:, side * half : (side + 1) * half]
            torch.mul(g, rows[:, half:], out=target[:, :half])
            torch.mul(g, rows[:, :half], out=target[:, half:])
        return torch.ops.aten.hardtanh_backward(out, units, 0.0, 1.0)  # clipped's backward


class _StackLinear(torch.autograd.Function):
    """One layer of the layer stacks on a batch sorted by stack: `bounds[s]` = (start, end)
    rows of stack s, whose rows of the weight ([STACKS * width, inputs]) are s * width on.
    Each position is multiplied by its own stack's rows only; in float32, autocast or not."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
    def forward(ctx, x, weight, bias, bounds):
        width = weight.shape[0] // STACKS
        ctx.save_for_backward(x, weight)
        ctx.bounds = bounds
        parts = [
            F.linear(
                x[start:end], weight[s * width : (s + 1) * width], bias[s * width : (s + 1) * width]
            )
            for s, (start, end) in enumerate(bounds)
        ]
        return torch.cat(parts)

    @staticmethod
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        width = weight.shape[0] // STACKS
        grad_x = torch.empty_like(x)
        grad_weight = torch.zeros_like(weight)
        grad_bias = weight.new_zeros(weight.shape[0])
        for s, (start, end) in enumerate(ctx.bounds):
            if start == end:
                continue
            rows, g = slice(s * width, (s + 1) * width), grad[start:end]
            grad_x[start:end] = g @ weight[rows]
            grad_weight[rows] = g.t() @ x[start:end]
            grad_bias[rows] = g.sum(0)
        return grad_x, grad_weight, grad_bias, None


def _pick(stacked: torch.Tensor, bucket: torch.Tensor, width: int) -> torch.Tensor:
    """[B, STACKS * width] -> [B, width] of each row's bucket."""
    rows = stacked.view(-1, STACKS, width)
    return rows[torch.arange(rows.shape[0], device=rows.device), bucket]


class SFNNv5(nn.Module):
    """Stockfish 15.1's network; `forward` gives the score for the side to move (x 600 =
    internal units)."""

    def __init__(self, factorized: bool = False, description: str = ""):
        super().__init__()
        self.description = description
        self.input = FeatureTransformer(factorized)
        self.fc0 = nn.Linear(HALF_DIMS, FC0_OUT * STACKS)
        self.fc1 = nn.Linear(FC1_IN, FC1_OUT * STACKS)
        self.fc2 = nn.Linear(FC1_OUT, STACKS)
        with torch.no_grad():  # nnue-pytorch: every stack starts as the same one, output bias 0
            for layer in (self.fc0, self.fc1, self.fc2):
                out = layer.out_features // STACKS
                layer.weight.copy_(layer.weight[:out].repeat(STACKS, 1))
                layer.bias.copy_(layer.bias[:out].repeat(STACKS))
            self.fc2.bias.zero_()

    def config(self) -> dict[str, Any]:
        return {
            "kind": "sfnnv5",
            "factorized": self.input.factorized,
            "description": self.description,
        }

    def forward(self, stm: torch.Tensor, nstm: torch.Tensor, bucket: torch.Tensor) -> torch.Tensor:
        """Active features of the side to move [B, K] and of the other side [B, K], layer stack
        [B] -> score [B] in units of 600 internal units, side to move's view."""
        if stm.device.type != "cpu":  # a GPU: one matmul over every stack beats 24 small ones
            return self.plain_forward(stm, nstm, bucket, active_rows=True)
        bucket = bucket.long()
        order = torch.argsort(bucket, stable=True)  # the batch in layer-stack order
        ends = torch.bincount(bucket, minlength=STACKS).cumsum(0).tolist()
        bounds = list(zip([0, *ends[:-1]], ends, strict=True))
        # both perspectives in one sparse sum: one gradient buffer for the shared weights
        units, psqt = self.input(torch.cat([stm[order], nstm[order]]))
        x = _Pairwise.apply(units)
        out0 = _StackLinear.apply(x, self.fc0.weight, self.fc0.bias, bounds)
        head, skip = out0[:, : FC0_OUT - 1], out0[:, FC0_OUT - 1]
        x1 = clipped(torch.cat([head.square() * SQUARE_SCALE, head], dim=1))
        x2 = clipped(_StackLinear.apply(x1, self.fc1.weight, self.fc1.bias, bounds))
        out = _StackLinear.apply(x2, self.fc2.weight, self.fc2.bias, bounds)[:, 0]
        stack = bucket[order]
        rows = torch.arange(stack.shape[0], device=stack.device)
        psqt_us, psqt_them = psqt.chunk(2)
        psqt = (psqt_us[rows, stack] - psqt_them[rows, stack]) / 2
        return (out + skip + psqt)[torch.argsort(order)]

    def plain_forward(
        self, stm: torch.Tensor, nstm: torch.Tensor, bucket: torch.Tensor, active_rows=False
    ) -> torch.Tensor:
        """`forward` in plain autograd ops: every layer stack computed and the used one
        gathered, the transformer as one embedding bag over its whole weight (or, with
        `active_rows`, summed over the touched rows as `forward` sums it)."""
        bucket = bucket.long()
        transformer = self.input if active_rows else self.input.plain_forward
        units, psqt = transformer(torch.cat([stm, nstm]))
        units_us, units_them = units.chunk(2)
        psqt_us, psqt_them = psqt.chunk(2)
        x = torch.cat([pairwise(units_us), pairwise(units_them)], dim=1)
        out0 = _pick(self.fc0(x), bucket, FC0_OUT)
        head, skip = out0[:, : FC0_OUT - 1], out0[:, FC0_OUT - 1]
        x1 = clipped(torch.cat([head.square() * SQUARE_SCALE, head], dim=1))
        x2 = clipped(_pick(self.fc1(x1), bucket, FC1_OUT))
        out = _pick(self.fc2(x2), bucket, 1)[:, 0]
        rows = torch.arange(bucket.shape[0], device=bucket.device)
        psqt = (psqt_us[rows, bucket] - psqt_them[rows, bucket]) / 2
        return out + skip + psqt

    @torch.no_grad()
    def refactored(self, factorized: bool) -> SFNNv5:
        """The same function with or without virtual features (added as zeros, or folded)."""
        net = SFNNv5(factorized, self.description)
        state = self.state_dict()
        real = self.input.real_weight()
        if factorized:
            real = torch.cat([real, torch.zeros_like(real[:PLANE_SIZE])])
        state["input.weight"] = real
        net.load_state_dict(state)
        return net

    @torch.no_grad()
    def clip_weights(self) -> None:
        """Keep hidden weights inside what int8 holds after quantisation (nnue-pytorch clips
        after every optimiser step), so the exported net computes what was trained."""
        for layer, scale in ((self.fc0, HIDDEN_WEIGHT_SCALE), (self.fc1, HIDDEN_WEIGHT_SCALE)):
            layer.weight.clamp_(-127 / scale, 127 / scale)
        self.fc2.weight.clamp_(-127 / OUTPUT_WEIGHT_SCALE, 127 / OUTPUT_WEIGHT_SCALE)
