"""Benchmark area `nnue`: the SFNNv5 training step of `zeroforge train network=sfnnv5`.

One batch of the shipped Stockfish sample (data/sample/chess, through the recipe's own dataset)
and the recipe's own pieces (ChessGame's loss, the `ranger_nnue` optimiser, weight clipping)
time a bare training step, round by round:

- bf16 autocast against fp32, interleaved, as the median of the per-round time ratios;
- the optimiser's share of an fp32 step: Ranger updates all 23M transformer weights densely
  every step, though a batch touches a few thousand rows (the case for sparse updates);
- the feature transformer as `F.embedding_bag` over ~30 active features per side against the
  dense matmul of a [B, 22528] 0/1 matrix it replaces (forward + backward of that layer only).
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from zeroforge.bench import BenchResult
from zeroforge.chess.features import NUM_FEATURES

SAMPLE = "data/sample/chess/sf15-d6.binpack"
BATCH = 1024
ROUNDS = {True: 3, False: 10}  # quick, full


def _recipe(batch_size: int):
    """(game, net, optimizer, one batch) as `zeroforge train network=sfnnv5` builds them."""
    from omegaconf import OmegaConf

    from zeroforge.commands.train import compose_config
    from zeroforge.train.chess_game import ChessGame
    from zeroforge.train.optim import build_optimizer
    from zeroforge.train.recipe import module_config

    overrides = ["network=sfnnv5", f"data.train={SAMPLE}", f"data.batch_size={batch_size}"]
    cfg = compose_config(overrides + ["data.workers=0", "train.max_steps=1000"])
    config = module_config(cfg, channels_last=False)
    game = ChessGame(config)
    torch.manual_seed(0)
    net = game.build_net()
    optimizer = build_optimizer(config["optim"], net, game.regularized(net))
    data = OmegaConf.to_container(cfg.data, resolve=True)
    batch = next(iter(game.dataset([SAMPLE], data, 0, True)))
    return game, net, optimizer, batch


def _step(game, net, optimizer, batch, bf16: bool) -> tuple[float, float]:
    """(whole step s, optimiser step s)."""
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = game.losses(net, batch, 0, True)["loss"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    before = time.perf_counter()
    optimizer.step()
    after = time.perf_counter()
    game.after_step(net)
    return time.perf_counter() - start, after - before


def _transformer_times(net, batch) -> tuple[float, float]:
    """(embedding_bag, dense matmul) forward + backward of the transformer's plain rows."""
    weight = net.input.weight.detach()[:NUM_FEATURES].clone().requires_grad_(True)
    indices = batch["us"].long()
    rows = weight.shape[0]
    dense = torch.zeros(indices.shape[0], rows)
    valid = indices >= 0
    dense[torch.arange(indices.shape[0]).unsqueeze(1).expand_as(indices)[valid], indices[valid]] = 1

    def sparse():
        safe = indices.clamp(min=0)
        return F.embedding_bag(safe, weight, mode="sum", per_sample_weights=valid.float())

    def timed(compute) -> float:
        start = time.perf_counter()
        compute().sum().backward()
        weight.grad = None
        return time.perf_counter() - start

    timed(sparse), timed(lambda: dense @ weight)  # warm-up
    return timed(sparse), timed(lambda: dense @ weight)


def run(quick: bool) -> BenchResult:
    batch_size = 256 if quick else BATCH
    game, net, optimizer, batch = _recipe(batch_size)
    rounds = ROUNDS[quick]
    for bf16 in (False, True):  # warm-up
        _step(game, net, optimizer, batch, bf16)
    steps = [
        (_step(game, net, optimizer, batch, False), _step(game, net, optimizer, batch, True))
        for _ in range(rounds)
    ]
    fp32 = statistics.median(s[0][0] for s in steps)
    bf16 = statistics.median(s[1][0] for s in steps)
    ratio = statistics.median(s[1][0] / s[0][0] for s in steps)
    share = statistics.median(s[0][1] / s[0][0] for s in steps)
    ft = [_transformer_times(net, batch) for _ in range(rounds)]
    sparse_s = statistics.median(t[0] for t in ft)
    dense_s = statistics.median(t[1] for t in ft)
    ft_ratio = statistics.median(t[1] / t[0] for t in ft)
    n = batch["us"].shape[0]
    figures = {
        "nnue_bf16_vs_fp32_step_time_ratio": ratio,
        "nnue_optimizer_share_of_fp32_step": share,
        "nnue_dense_vs_embedding_bag_transformer_time_ratio": ft_ratio,
    }
    command = "zeroforge bench --only nnue" + (" --quick" if quick else "")
    markdown = "\n".join(
        [
            "## NNUE training step (`nnue`)",
            "",
            f"SFNNv5 as `zeroforge train network=sfnnv5` trains it (factorised transformer, "
            f"`ranger_nnue`, nnue-pytorch's loss, weight clipping), one batch of {n} positions "
            f"of data/sample/chess in memory, {torch.get_num_threads()} torch threads, medians "
            f"over {rounds} interleaved rounds.",
            "",
            "| step | seconds | positions/s |",
            "|---|---:|---:|",
            f"| fp32 | {fp32:.3f} | {n / fp32:,.0f} |",
            f"| bf16 autocast | {bf16:.3f} | {n / bf16:,.0f} |",
            "",
            f"- bf16 / fp32 step time: **{ratio:.2f}**"
            + (
                " (no gain: the layer stacks are tiny and the transformer is a gather-sum; the "
                "recipe's `precision=auto` still picks bf16 on a CPU that has it)."
                if ratio > 0.9
                else "."
            ),
            f"- Ranger's step is **{share:.0%}** of an fp32 step: it updates all "
            f"{net.input.weight.numel():,} transformer weights densely, though a batch touches "
            "only the rows of its active features; a sparse update is the next speed-up.",
            f"- Feature transformer forward + backward, `F.embedding_bag` {sparse_s * 1e3:.1f} ms "
            f"against a dense [{n}, 22528] matmul {dense_s * 1e3:.1f} ms: "
            f"**{ft_ratio:.0f}x**.",
            "",
            f"Reproduce: `{command}`.",
        ]
    )
    return BenchResult(figures, markdown + "\n")
