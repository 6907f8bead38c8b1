"""Benchmark area `nfnet`: training-step time of the normalizer-free tower (with AGC) against
the batch-norm tower of the same size, measured interleaved in the same run.

Each round times one bare training step (forward, policy cross-entropy + value MSE, backward,
SGD with Nesterov momentum) of the BN net, then of the NF net with adaptive gradient clipping,
on the same random batch in memory; the figure is the median over rounds of NF time / BN time,
so load from other jobs hits both sides alike.
"""

from __future__ import annotations

import statistics
import time

import torch

from zeroforge.bench import BenchResult
from zeroforge.go.geometry import NUM_MOVES
from zeroforge.go.planes import INPUT_PLANES
from zeroforge.nn.checkpoint import build_network
from zeroforge.train import losses
from zeroforge.train.agc import AdaptiveGradClipper

BATCH = 128
# (blocks, filters, rounds)
FULL = [(6, 64, 8), (10, 128, 4)]
QUICK = [(6, 64, 4)]
PRECISIONS = ("fp32", "bf16")


def _step(net, optimizer, clipper, batch, bf16: bool) -> float:
    planes, policy, z = batch
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits, value = net(planes)
    loss = losses.policy_cross_entropy(logits, policy) + losses.value_mse(value, z)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clipper is not None:
        clipper()
    optimizer.step()
    return time.perf_counter() - start


def step_time_ratio(blocks: int, filters: int, bf16: bool, rounds: int) -> tuple[float, ...]:
    """(median BN step s, median NF+AGC step s, median of per-round NF/BN ratios)."""
    torch.manual_seed(0)
    planes = (torch.rand(BATCH, INPUT_PLANES, 19, 19) < 0.2).float()
    planes = planes.contiguous(memory_format=torch.channels_last)
    batch = (
        planes,
        torch.softmax(torch.randn(BATCH, NUM_MOVES), 1),
        torch.randint(0, 2, (BATCH,)).float() * 2 - 1,
    )
    runners = []
    for norm in ("bn", "nf"):
        net = build_network({"kind": "lz", "norm": norm, "blocks": blocks, "filters": filters})
        net = net.to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        runners.append((net, optimizer, AdaptiveGradClipper(net) if norm == "nf" else None))
    for runner in runners:  # warm-up
        _step(*runner, batch, bf16)
    times = [[_step(*runner, batch, bf16) for runner in runners] for _ in range(rounds)]
    bn, nf = (statistics.median(t[i] for t in times) for i in (0, 1))
    return bn, nf, statistics.median(t[1] / t[0] for t in times)


def run(quick: bool) -> BenchResult:
    rows, figures = [], {}
    for blocks, filters, rounds in QUICK if quick else FULL:
        for name in ("bf16",) if quick else PRECISIONS:
            bn, nf, ratio = step_time_ratio(blocks, filters, name == "bf16", rounds)
            net = f"{blocks}x{filters}"
            figures[f"nf_agc_vs_bn_{net}_{name}_step_time_ratio"] = ratio
            rows.append(f"| {net} | {name} | {BATCH / bn:.0f} | {BATCH / nf:.0f} | {ratio:.2f} |")
    command = "zeroforge bench --only nfnet" + (" --quick" if quick else "")
    markdown = "\n".join(
        [
            "## Normalizer-free vs batch-norm training step (`nfnet`)",
            "",
            f"Bare training step (batch {BATCH}, channels_last, SGD, random tensors in memory), BN "
            "net vs NF net with AGC (clip 0.01) of the same size, interleaved round by round; "
            f"{torch.get_num_threads()} torch threads.",
            "",
            "| net | precision | BN samples/s | NF+AGC samples/s | NF/BN step time (median) |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
            f"Reproduce: `{command}`.",
        ]
    )
    return BenchResult(figures, markdown + "\n")
