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

The layer stacks are held as one Linear per layer with 8x the outputs (every bucket computed,
the used one gathered): the per-bucket matrices are small, a gather of weights would cost more.
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
        summed = _ActiveRowSum.apply(self.weight, indices, self.factorized, self.row_sparse_grad)
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

    def per_row(self, grad_out: torch.Tensor) -> torch.Tensor:
        """[bags, C] -> [rows, C]: each row's sum over the bags that hold it (the transpose of
        the forward sum, as one embedding bag over `grad_out` with bags grouped by row)."""
        order = torch.argsort(self.local, stable=True)
        bags = torch.arange(len(self.counts), device=self.counts.device)
        bag = torch.repeat_interleave(bags, self.counts)[order]
        per_row = torch.bincount(self.local, minlength=len(self.rows))
        return F.embedding_bag(bag, grad_out, per_row.cumsum(0) - per_row, mode="sum")


class _ActiveRowSum(torch.autograd.Function):
    """Sum of the weight rows of each bag's active features (plus their virtual rows)."""

    @staticmethod
    def forward(ctx, weight, indices, factorized: bool, row_sparse: bool):
        active = ActiveRows(indices.to(weight.device))
        if factorized:  # each real row plus its virtual row, as bags of two
            pairs = torch.stack([active.rows, NUM_FEATURES + active.rows % PLANE_SIZE], dim=1)
            rows = F.embedding_bag(pairs, weight, mode="sum")
        else:
            rows = F.embedding(active.rows, weight)
        ctx.active, ctx.factorized, ctx.row_sparse = active, factorized, row_sparse
        ctx.shape = weight.shape
        return F.embedding_bag(active.local, rows, active.offsets, mode="sum")

    @staticmethod
    def backward(ctx, grad_out):
        active = ctx.active
        grads = active.per_row(grad_out.contiguous())
        rows = active.rows
        if ctx.factorized:  # a virtual row's gradient: the sum over the real rows sharing it
            planes = active.rows % PLANE_SIZE
            used = torch.zeros(PLANE_SIZE, dtype=torch.bool, device=grads.device)
            used[planes] = True
            virtual = grads.new_zeros(PLANE_SIZE, grads.shape[1]).index_add_(0, planes, grads)
            plane_rows = used.nonzero().squeeze(1)
            rows = torch.cat([rows, NUM_FEATURES + plane_rows])
            grads = torch.cat([grads, virtual[plane_rows]])
        if ctx.row_sparse:
            grad = torch.sparse_coo_tensor(
                rows[None], grads, ctx.shape, is_coalesced=True, check_invariants=False
            )
        else:
            grad = grads.new_zeros(ctx.shape).index_copy_(0, rows, grads)
        return grad, None, None, None


def clipped(x: torch.Tensor) -> torch.Tensor:
    """clamp(x, 0, 1); hardtanh's backward is one fused pass (clamp's takes four)."""
    return F.hardtanh(x, 0.0, 1.0)


def pairwise(units: torch.Tensor) -> torch.Tensor:
    clipped_units = clipped(units)
    half = HALF_DIMS // 2
    return clipped_units[:, :half] * clipped_units[:, half:] * SQUARE_SCALE


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
        bucket = bucket.long()
        # both perspectives in one sparse sum: one gradient buffer for the shared weights
        units, psqt = self.input(torch.cat([stm, nstm]))
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
