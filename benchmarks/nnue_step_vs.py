"""The chess recipe's training step of this tree against the same step with `nn/sfnnv5.py` of
another commit: the same batch, the same optimiser settings and starting weights, the two steps
interleaved (which one goes first alternates), medians of per-round ratios of wall clock and of
CPU time (all threads'; what a shared machine distorts least).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/nnue_step_vs.py COMMIT [--rounds 21] [--bf16]

For changes inside nn/sfnnv5.py only (the rest of the step, optimiser included, is this tree's).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from zeroforge.commands.train import compose_config
from zeroforge.train.chess_game import ChessGame
from zeroforge.train.optim import build_optimizer
from zeroforge.train.recipe import keep_freed_memory, module_config

SAMPLE = "data/sample/chess/sf15-d6.binpack"


def old_module(commit: str, directory: str):
    """nn/sfnnv5.py as of `commit`, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{commit}:src/zeroforge/nn/sfnnv5.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(directory) / "sfnnv5_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sfnnv5_old", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--bf16", action="store_true", help="both steps in bf16 autocast")
    args = parser.parse_args()
    keep_freed_memory()  # as `zeroforge train` does
    overrides = ["network=sfnnv5", f"data.train={SAMPLE}", f"data.batch_size={args.batch_size}"]
    cfg = compose_config(overrides + ["data.workers=0", "train.max_steps=1000"])
    config = module_config(cfg, channels_last=False)
    game = ChessGame(config)
    torch.manual_seed(0)
    new = game.build_net()
    with tempfile.TemporaryDirectory() as directory:
        old = old_module(args.commit, directory).SFNNv5(new.input.factorized)
    old.load_state_dict(new.state_dict())
    nets = {"this tree": new, args.commit: old}
    optimizers = {
        name: build_optimizer(config["optim"], net, game.regularized(net))
        for name, net in nets.items()
    }
    data = OmegaConf.to_container(cfg.data, resolve=True)
    batch = next(iter(game.dataset([SAMPLE], data, 0, True)))

    def step(name: str) -> tuple[float, float]:
        net, optimizer = nets[name], optimizers[name]
        start, cpu = time.perf_counter(), time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = game.losses(net, batch, 0, True)["loss"]
        net.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        game.after_step(net)
        return time.perf_counter() - start, time.process_time() - cpu

    names = list(nets)
    for _ in range(3):  # warm-up (Ranger's state, allocations)
        for name in names:
            step(name)
    load = os.getloadavg()
    rounds = []
    for index in range(args.rounds):
        order = names if index % 2 == 0 else names[::-1]
        rounds.append({name: step(name) for name in order})
    n = batch["us"].shape[0]
    for name in names:
        wall = statistics.median(r[name][0] for r in rounds)
        cpu = statistics.median(r[name][1] for r in rounds)
        print(f"{name}: {wall * 1e3:.1f} ms ({n / wall:,.0f} positions/s), CPU {cpu * 1e3:.1f} ms")
    wall_ratio = statistics.median(r[names[1]][0] / r[names[0]][0] for r in rounds)
    cpu_ratio = statistics.median(r[names[1]][1] / r[names[0]][1] for r in rounds)
    print(
        f"this tree's step: {wall_ratio:.2f}x the positions/s of {args.commit}'s, "
        f"{cpu_ratio:.2f}x its positions per CPU-second ({args.rounds} rounds, "
        f"{torch.get_num_threads()} threads, load average {load[0]:.1f} -> {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
