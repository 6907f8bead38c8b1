"""Benchmark area `nnue`: the SFNNv5 training step of `zeroforge train network=sfnnv5`.

One batch of the shipped Stockfish sample (data/sample/chess, through the recipe's own dataset)
in memory, and the recipe's own pieces (ChessGame's loss, the `ranger_nnue` optimiser, weight
clipping), timed step by step in interleaved rounds (medians of per-round ratios):

- the recipe's step (the transformer summed over the rows the batch touches, the batch sorted
  by layer stack so each position goes through its own stack only, lazy Ranger on the touched
  rows) against the reference of the same run, the bare loop: SFNNv5's `plain_forward` (its
  transformer as one `F.embedding_bag` over the whole weight, every layer stack computed and the
  used one gathered), forward + backward on in-memory tensors, no optimiser;
- the step as it was before lazy rows: the bare loop plus Ranger's dense update of every
  transformer row (issue 20's "today");
- the recipe's step computing every layer stack (`plain_forward` on the touched rows, lazy
  Ranger): the step before the batch was sorted by stack;
- the recipe's step with `optim.lazy_rows=false` (dense update, fast transformer), and in bf16
  autocast (what `precision=auto` would pick on a CPU with bf16);
- this CPU's limit for the step: the bytes of the touched transformer rows a step must move
  (forward, gradient, Ranger's moments) over the measured memory bandwidth, plus the layer
  stacks' FLOPs over the measured matmul rate.
"""

from __future__ import annotations

import os
import statistics
import time

import torch
from torch import nn

from zeroforge.bench import BenchResult
from zeroforge.chess.features import PLANE_SIZE
from zeroforge.nn.sfnnv5 import STACKS

SAMPLE = "data/sample/chess/sf15-d6.binpack"
BATCH = 1024  # the recipe's (conf/data/chess.yaml)
ROUNDS = {True: 3, False: 9}  # quick, full
ROW_PASSES = 9  # a touched row: read (forward), gradient written and read, w m v read and written


def _recipe(batch_size: int, lazy_rows: bool):
    """(game, net, optimizer, one batch) as `zeroforge train network=sfnnv5` builds them."""
    from omegaconf import OmegaConf

    from zeroforge.commands.train import compose_config
    from zeroforge.train.chess_game import ChessGame
    from zeroforge.train.optim import build_optimizer
    from zeroforge.train.recipe import module_config

    overrides = ["network=sfnnv5", f"data.train={SAMPLE}", f"data.batch_size={batch_size}"]
    cfg = compose_config(
        overrides + [f"optim.lazy_rows={lazy_rows}", "data.workers=0", "train.max_steps=1000"]
    )
    config = module_config(cfg, channels_last=False)
    game = ChessGame(config)
    torch.manual_seed(0)
    net = game.build_net()
    optimizer = build_optimizer(config["optim"], net, game.regularized(net))
    data = OmegaConf.to_container(cfg.data, resolve=True)
    batch = next(iter(game.dataset([SAMPLE], data, 0, True)))
    return game, net, optimizer, batch


class _Plain(nn.Module):
    """A net stepped through its `plain_forward` (every layer stack computed; the transformer
    over the whole weight, or over the touched rows with `active_rows`)."""

    def __init__(self, net: nn.Module, active_rows: bool):
        super().__init__()
        self.net, self.active_rows = net, active_rows

    def forward(self, stm, nstm, bucket) -> torch.Tensor:
        return self.net.plain_forward(stm, nstm, bucket, active_rows=self.active_rows)

    def clip_weights(self) -> None:
        self.net.clip_weights()


def _timed(game, net, optimizer, batch, bf16: bool = False) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one training step (no optimiser: forward + backward only);
    CPU time, of all threads, is what a busy shared machine distorts least."""
    start, cpu = time.perf_counter(), time.process_time()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = game.losses(net, batch, 0, True)["loss"]
    net.zero_grad(set_to_none=True)
    loss.backward()
    if optimizer is not None:
        optimizer.step()
        game.after_step(net)
    return time.perf_counter() - start, time.process_time() - cpu


def _phases(game, net, optimizer, batch) -> tuple[float, float, float]:
    """CPU seconds of the recipe's step by phase: (forward + loss, backward, optimiser)."""
    start = time.process_time()
    loss = game.losses(net, batch, 0, True)["loss"]
    net.zero_grad(set_to_none=True)
    forward = time.process_time()
    loss.backward()
    backward = time.process_time()
    optimizer.step()
    game.after_step(net)
    return forward - start, backward - forward, time.process_time() - backward


def _touched_rows(batch) -> int:
    """Transformer rows (real and virtual) the batch's features touch."""
    indices = torch.cat([batch["us"], batch["them"]]).long()
    real = indices[indices >= 0].unique()
    return len(real) + len((real % PLANE_SIZE).unique())


def _memory_bandwidth() -> float:
    """Bytes/s of a 256 MB copy (read + write), the best of 5."""
    source = torch.rand(64 << 20)
    target = torch.empty_like(source)
    best = min(_seconds(lambda: target.copy_(source)) for _ in range(5))
    return 2 * source.numel() * 4 / best


def _matmul_rate(batch_size: int) -> float:
    """FLOP/s of the layer stacks' largest matmul ([B, 1024] x [1024, 128]), best of 5."""
    x, w = torch.rand(batch_size, 1024), torch.rand(1024, 128)
    best = min(_seconds(lambda: x @ w) for _ in range(5))
    return 2 * batch_size * 1024 * 128 / best


def _seconds(compute) -> float:
    start = time.perf_counter()
    compute()
    return time.perf_counter() - start


def _stack_flops(net) -> int:
    """FLOPs per position of its layer stack, forward and backward (3x the forward's)."""
    weights = sum(layer.weight.numel() for layer in (net.fc0, net.fc1, net.fc2))
    return 3 * 2 * weights // STACKS


def run(quick: bool) -> BenchResult:
    from zeroforge.train.recipe import keep_freed_memory

    keep_freed_memory()  # as `zeroforge train` does
    batch_size = 256 if quick else BATCH
    game, net, lazy_optimizer, batch = _recipe(batch_size, lazy_rows=True)
    _, dense_net, dense_optimizer, _ = _recipe(batch_size, lazy_rows=False)
    bare_net = _Plain(_recipe(batch_size, lazy_rows=False)[1], active_rows=False)
    _, before_net, before_optimizer, _ = _recipe(batch_size, lazy_rows=False)
    before_net = _Plain(before_net, active_rows=False)
    _, stacks_net, stacks_optimizer, _ = _recipe(batch_size, lazy_rows=True)
    stacks_net = _Plain(stacks_net, active_rows=True)
    cases = {
        "recipe": lambda: _timed(game, net, lazy_optimizer, batch),
        "bare": lambda: _timed(game, bare_net, None, batch),
        "before": lambda: _timed(game, before_net, before_optimizer, batch),
        "stacks": lambda: _timed(game, stacks_net, stacks_optimizer, batch),
        "dense": lambda: _timed(game, dense_net, dense_optimizer, batch),
        "bf16": lambda: _timed(game, net, lazy_optimizer, batch, bf16=True),
    }
    for timed in cases.values():  # warm-up (Ranger's state, allocations)
        timed(), timed()
    rounds = [{name: timed() for name, timed in cases.items()} for _ in range(ROUNDS[quick])]
    seconds = {name: statistics.median(r[name][0] for r in rounds) for name in cases}
    cpu = {name: statistics.median(r[name][1] for r in rounds) for name in cases}
    ratio = {name: statistics.median(r[name][0] / r["recipe"][0] for r in rounds) for name in cases}
    cpu_ratio = {
        name: statistics.median(r[name][1] / r["recipe"][1] for r in rounds) for name in cases
    }
    n = batch["us"].shape[0]
    rows = _touched_rows(batch)
    bandwidth, flop_rate = _memory_bandwidth(), _matmul_rate(n)
    row_bytes = net.input.weight.shape[1] * net.input.weight.element_size()
    limit_s = rows * row_bytes * ROW_PASSES / bandwidth + n * _stack_flops(net) / flop_rate
    figures = {
        "nnue_recipe_vs_before_positions_per_s_ratio": ratio["before"],
        "nnue_recipe_vs_before_positions_per_cpu_s_ratio": cpu_ratio["before"],
        "nnue_recipe_vs_bare_loop_positions_per_s_ratio": ratio["bare"],
        "nnue_recipe_vs_every_stack_positions_per_s_ratio": ratio["stacks"],
        "nnue_recipe_vs_every_stack_positions_per_cpu_s_ratio": cpu_ratio["stacks"],
        "nnue_lazy_vs_dense_update_positions_per_s_ratio": ratio["dense"],
        "nnue_bf16_vs_fp32_step_time_ratio": ratio["bf16"],
        "nnue_bf16_vs_fp32_cpu_time_ratio": cpu_ratio["bf16"],
        "nnue_step_vs_limit_time_ratio": seconds["recipe"] / limit_s,
    }
    phases = [_phases(game, net, lazy_optimizer, batch) for _ in range(ROUNDS[quick])]
    phase = [statistics.median(p[i] for p in phases) for i in range(3)]
    timings = {"seconds": seconds, "cpu": cpu, "ratio": ratio, "cpu_ratio": cpu_ratio}
    timings["phase"] = phase
    return BenchResult(figures, _markdown(quick, n, rows, timings, limit_s, bandwidth, flop_rate,
                                          row_bytes, net))  # fmt: skip


def _markdown(quick, n, rows, timings, limit_s, bandwidth, flop_rate, row_bytes, net):
    seconds, cpu, ratio, cpu_ratio = (timings[k] for k in ("seconds", "cpu", "ratio", "cpu_ratio"))
    phase = timings["phase"]
    threads = torch.get_num_threads()
    command = f"OMP_NUM_THREADS={threads} zeroforge bench --only nnue" + (" --quick" * quick)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    label = {
        "recipe": "**the recipe's step** (touched rows, lazy Ranger)",
        "before": "the step before lazy rows (bare loop + dense Ranger)",
        "stacks": "the recipe's step computing every layer stack (before stack-sorted batches)",
        "dense": "the recipe's step with `optim.lazy_rows=false`",
        "bare": "reference: the bare loop (embedding bag + layer stacks, no optimiser)",
        "bf16": "the recipe's step in bf16 autocast",
    }
    table = [
        f"| {label[name]} | {seconds[name]:.3f} | {n / seconds[name]:,.0f} | "
        f"{n / cpu[name]:,.0f} | {1 / ratio[name]:.2f} | {1 / cpu_ratio[name]:.2f} |"
        for name in ("recipe", "stacks", "before", "dense", "bare", "bf16")
    ]
    stack_flops = _stack_flops(net)
    return (
        "\n".join(
            [
                "## NNUE training step (`nnue`)",
                "",
                f"SFNNv5 as `zeroforge train network=sfnnv5` trains it (factorised transformer, "
                f"`ranger_nnue`, nnue-pytorch's loss, weight clipping), one batch of {n} positions "
                f"of data/sample/chess in memory (touching {rows:,} of the 23,232 transformer "
                f"rows), {threads} torch thread(s), medians over {ROUNDS[quick]} "
                f"interleaved rounds; load average {load} during the run.",
                "",
                "| step | seconds | positions/s | positions per CPU-s | vs the recipe's "
                "positions/s | vs the recipe's per CPU-s |",
                "|---|---:|---:|---:|---:|---:|",
                *table,
                "",
                f"- The recipe's step is **{ratio['before']:.1f}x** the positions/s of the step "
                f"before lazy rows, measured side by side (issue 20's target: 4x), and "
                f"**{cpu_ratio['before']:.1f}x** its positions per CPU-second (all threads' "
                "time: what a loaded machine distorts least; on shared cores a step's threads "
                "wait for each other).",
                f"- Where the recipe's step goes (CPU time): forward and loss "
                f"{phase[0] * 1e3:.1f} ms, backward {phase[1] * 1e3:.1f} ms, optimiser "
                f"{phase[2] * 1e3:.1f} ms (Ranger's compiled row update and, every 6th step, "
                "Lookahead's sync). The forward and backward sums over the touched rows are "
                "embedding bags; each position goes through its own layer stack only.",
                f"- The batch sorted by layer stack (one stack's matmuls per position, not 8) with "
                f"the pairwise product and the transformer's backward fused: **"
                f"{ratio['stacks']:.2f}x** the positions/s of the same step computing every "
                f"stack, **{cpu_ratio['stacks']:.2f}x** its positions per CPU-second, the same "
                "loss and gradients to float tolerance (tests/nn/test_sfnnv5.py).",
                f"- bf16 / fp32 CPU time per step: **{cpu_ratio['bf16']:.2f}** (wall clock "
                f"{ratio['bf16']:.2f}): bf16 autocast leaves SFNNv5 in float32 (its layer "
                "stacks, one per position, are too small for bf16's casts to pay; the "
                "transformer's sums were always float32), so `precision=auto`, which picks bf16 "
                "on a CPU that has it, computes the same step here.",
                f"- Limit of this CPU for the step: {rows:,} touched rows x {row_bytes:,} bytes x "
                f"{ROW_PASSES} passes (forward read, gradient written and read, weight and both "
                f"moments read and written) at {bandwidth / 1e9:.1f} GB/s (a 256 MB copy), plus "
                f"{stack_flops / 1e6:.2f} MFLOP per position of layer stacks (forward and "
                f"backward, one stack per position) at {flop_rate / 1e9:.0f} GFLOP/s (their "
                f"[{n}, 1024] x [1024, 128] matmul): **{limit_s * 1e3:.1f} ms**, "
                f"{n / limit_s:,.0f} positions/s. The recipe's step takes "
                f"**{seconds['recipe'] / limit_s:.1f}x** that, and "
                f"{cpu['recipe'] / limit_s:.1f}x in CPU time.",
                "",
                f"Reproduce: `{command}`.",
            ]
        )
        + "\n"
    )
