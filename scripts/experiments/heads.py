"""Held-out policy loss of the head parametrisations (nn/heads.py) against a fully
convolutional reference net, on the sample's 56 GNU Go games: docs/experiments/heads.md.

    .venv/bin/python scripts/experiments/heads.py --out /tmp/heads [--runs NAME ...]

1. The games (data/sample/gnugo/*.sgf, data/sample/gnugo48/*.sgf) become one chunk file each
   (`sgf2chunks`' converter), so holding out files holds out whole games: 8 of 56 are held out
   (the recipe's own file split, `data.files.split_files`, fraction 0.15).
2. Each LZ net trains with `zeroforge train` itself (a subprocess per run), validation every
   `--val-every` steps on every held-out position. The reference net (the LZ tower with
   convolutional heads: a 1x1 conv per point plus a bias per point, pass and value from
   globally pooled features; it cannot be written as LZ weights) trains in a short plain loop
   here on the same data module, losses, optimiser and schedule.
3. OUT/results.csv holds every validation point, OUT/heads.md a table, OUT/heads.png the curves.
A run whose metrics are complete is not rerun (delete its folder to redo it).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
HELD_OUT = 0.15  # fraction of games held out
SPLIT_SEED = 0
TRAIN = {  # the recipe overrides every run shares (the reference loop reads the same ones)
    "data.sample_rate": "1.0",
    "data.batch_size": "64",
    "data.shuffle_buffer": "16384",
    "data.val_batches": "1000",  # every held-out position
    "optim": "adamw",
    "optim.lr": "0.002",
    "schedule": "warmup_cosine",
    "loss.value_weight": "0.25",
    "averaging": "none",
    "train.log_every": "50",
    "train.checkpoint_every": "0",
    "train.export_every": "0",
    "train.progress": "false",
}
# name -> (blocks x filters, head or "reference", residual L2, steps)
RUNS = {
    "2x32 reference": ("2x32", "reference", 0.0, 600),
    "2x32 conv_residual 1e-3": ("2x32", "conv_residual", 1e-3, 600),
    "2x32 lz": ("2x32", "lz", 0.0, 600),
    "2x32 conv": ("2x32", "conv", 0.0, 600),
    "2x32 conv_init": ("2x32", "conv_init", 0.0, 600),
    "2x32 conv_residual 1e-2": ("2x32", "conv_residual", 1e-2, 600),
    "2x32 conv_residual 1e-4": ("2x32", "conv_residual", 1e-4, 600),
    "2x32 conv3": ("2x32", "conv3", 0.0, 600),
    "6x64 reference": ("6x64", "reference", 0.0, 1000),
    "6x64 conv": ("6x64", "conv", 0.0, 1000),
    "6x64 conv3": ("6x64", "conv3", 0.0, 1000),
    "6x64 conv_residual 1e-3": ("6x64", "conv_residual", 1e-3, 1000),
}


def make_games(out: Path) -> tuple[Path, Path, int]:
    """One chunk per game in OUT/games/{train,val}; returns the two folders and the game count."""
    from zeroforge.commands.sgf2chunks import convert_to_dir
    from zeroforge.data.files import split_files

    games = out / "games"
    train_dir, val_dir = games / "train", games / "val"
    if not val_dir.exists():
        sgfs = [SAMPLE / "gnugo" / "gnugo-games.sgf", SAMPLE / "gnugo48"]
        stats, chunks = convert_to_dir(sgfs, games / "all", "game", games_per_chunk=1)
        train, val = split_files([str(c) for c in chunks], HELD_OUT, SPLIT_SEED)
        for folder, files in ((train_dir, train), (val_dir, val)):
            folder.mkdir(parents=True, exist_ok=True)
            for name in files:
                os.replace(name, folder / Path(name).name)
        (games / "all").rmdir()
    count = len(list(train_dir.glob("*.gz"))) + len(list(val_dir.glob("*.gz")))
    return train_dir, val_dir, count


def overrides(net: str, steps: int, val_every: int, seed: int, data: tuple[Path, Path]):
    blocks, filters = net.split("x")
    common = {**TRAIN, "network": "2x16", "network.blocks": blocks, "network.filters": filters}
    common |= {"data.train": str(data[0]), "data.val": str(data[1]), "seed": str(seed)}
    common |= {"train.max_steps": str(steps), "train.val_every": str(val_every)}
    common |= {"train.threads": "1"}
    return common


def run_recipe(run_dir: Path, settings: dict[str, str]) -> list[tuple[int, float, float]]:
    argv = [f"{k}={v}" for k, v in settings.items()] + [f"out_dir={run_dir}"]
    log = run_dir.with_suffix(".log")
    with open(log, "w") as handle:
        code = subprocess.call(
            [sys.executable, "-m", "zeroforge.cli", "train", *argv], stdout=handle, stderr=handle
        )
    if code:
        raise SystemExit(f"zeroforge train failed ({code}); see {log}")
    return read_curve(run_dir)


def read_curve(run_dir: Path) -> list[tuple[int, float, float]]:
    """The validation points a run left: metrics.csv (recipe) or curve.csv (reference loop)."""
    if (run_dir / "metrics.csv").exists():
        rows = csv.DictReader(open(run_dir / "metrics.csv"))
        policy, mse = "val_policy_loss", "val_value_mse"
    elif (run_dir / "curve.csv").exists():
        rows = csv.DictReader(open(run_dir / "curve.csv"))
        policy, mse = "val_policy", "val_mse"
    else:
        return []
    return [(int(r["step"]), float(r[policy]), float(r[mse])) for r in rows if r.get(policy)]


def finished_curve(run_dir: Path, steps: int) -> list[tuple[int, float, float]] | None:
    """The curve of a run that already reached `steps` (a rerun of the script reuses it)."""
    curve = read_curve(run_dir)
    return curve if curve and curve[-1][0] >= steps else None


def reference_net(blocks: int, filters: int):
    """The LZ tower with convolutional heads (not exportable: the comparison's yardstick)."""
    import torch
    from torch import nn

    from zeroforge.go.geometry import NUM_POINTS
    from zeroforge.nn.lznet import VALUE_HIDDEN, LZNet

    class FullyConvolutional(nn.Module):
        def __init__(self):
            super().__init__()
            lz = LZNet(blocks, filters)
            self.input, self.tower = lz.input, lz.tower
            self.policy_conv = nn.Conv2d(filters, 1, 1)
            self.point_bias = nn.Parameter(torch.zeros(NUM_POINTS))
            self.pass_fc = nn.Linear(filters, 1)
            self.value_fc1 = nn.Linear(filters, VALUE_HIDDEN)
            self.value_fc2 = nn.Linear(VALUE_HIDDEN, 1)

        def forward(self, planes):
            x = self.tower(self.input(planes.float()))
            pooled = x.mean(dim=(2, 3))
            points = self.policy_conv(x).flatten(1) + self.point_bias
            policy = torch.cat([points, self.pass_fc(pooled)], dim=1)
            value = torch.tanh(self.value_fc2(torch.relu(self.value_fc1(pooled)))).squeeze(1)
            return policy, value

    return FullyConvolutional()


def run_reference(run_dir: Path, settings: dict[str, str]) -> list[tuple[int, float, float]]:
    """The recipe's pieces in a plain loop: same data module, losses, optimiser, schedule."""
    import torch
    from omegaconf import OmegaConf

    from zeroforge.atomic import atomic_write_text
    from zeroforge.commands.train import compose_config
    from zeroforge.train import losses
    from zeroforge.train.datamodule import TrainDataModule
    from zeroforge.train.go_game import GoGame
    from zeroforge.train.optim import build_optimizer
    from zeroforge.train.recipe import cpu_has_bf16
    from zeroforge.train.schedules import SegmentSchedule

    cfg = compose_config([f"{k}={v}" for k, v in settings.items()] + [f"out_dir={run_dir}"])
    torch.set_num_threads(int(cfg.train.threads))
    torch.manual_seed(int(cfg.seed))
    net = reference_net(int(cfg.network.blocks), int(cfg.network.filters))
    bf16 = cpu_has_bf16()  # as the recipe's `auto` precision on a CPU
    if bf16:
        net = net.to(memory_format=torch.channels_last)
    optim_cfg = OmegaConf.to_container(cfg.optim, resolve=True)
    optimizer = build_optimizer(optim_cfg, net)
    steps, val_every = int(cfg.train.max_steps), int(cfg.train.val_every)
    schedule = SegmentSchedule(OmegaConf.to_container(cfg.schedule.segments), steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    data = TrainDataModule(cfg.data, int(cfg.seed), GoGame)
    data.setup("fit")
    weight = float(cfg.loss.value_weight)

    def outputs(batch):
        planes = batch["planes"].float()
        if bf16:
            planes = planes.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            return net(planes)

    def validate(step: int) -> tuple[int, float, float]:
        net.eval()
        total = policy = mse = 0.0
        with torch.no_grad():
            for batch in data.val_dataloader():
                logits, value = outputs(batch)
                target = batch["z"]
                n = len(target)
                policy += n * float(losses.policy_cross_entropy(logits, batch["policy"]))
                mse += n * float(losses.value_mse(value, target))
                total += n
        net.train()
        return step, policy / total, mse / total

    curve = []
    for step, batch in enumerate(data.train_dataloader(), start=1):
        logits, value = outputs(batch)
        loss = losses.policy_cross_entropy(logits, batch["policy"]) + weight * losses.value_mse(
            value, batch["z"]
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % val_every == 0:
            curve.append(validate(step))
            run_dir.mkdir(parents=True, exist_ok=True)  # progress, as metrics.csv of a recipe run
            lines = [f"{s},{p:.5f},{m:.5f}" for s, p, m in curve]
            atomic_write_text(run_dir / "curve.csv", "step,val_policy,val_mse\n" + "\n".join(lines))
        if step == steps:
            return curve
    return curve


def run_one(name: str, steps: int, val_every: int, seed: int, out: Path):
    """Train one run of RUNS; returns its validation curve and the seconds it took."""
    net, head, residual_l2, _ = RUNS[name]
    games = out / "games"
    settings = overrides(net, steps, val_every, seed, (games / "train", games / "val"))
    run_dir = out / name.replace(" ", "-")
    started = time.perf_counter()
    done = finished_curve(run_dir, steps)
    if done:
        return done, 0.0
    if head == "reference":
        curve = run_reference(run_dir, settings)
    else:
        settings |= {"network.head": head, "network.head_residual_l2": str(residual_l2)}
        curve = run_recipe(run_dir, settings)
    return curve, time.perf_counter() - started


def load_results(path: Path) -> dict[str, list[tuple[int, float, float]]]:
    results: dict[str, list[tuple[int, float, float]]] = {}
    if path.exists():
        for row in csv.DictReader(open(path)):
            point = (int(row["step"]), float(row["val_policy_loss"]), float(row["val_value_mse"]))
            results.setdefault(row["run"], []).append(point)
    return results


def save_results(path: Path, results: dict[str, list[tuple[int, float, float]]]) -> None:
    from zeroforge.atomic import atomic_write_text

    lines = ["run,step,val_policy_loss,val_value_mse"]
    for name, curve in results.items():
        lines += [f"{name},{step},{policy:.5f},{mse:.5f}" for step, policy, mse in curve]
    atomic_write_text(path, "\n".join(lines) + "\n")


def at_step(curve, step: int) -> str:
    values = [policy for s, policy, _ in curve if s == step]
    return f"{values[0]:.2f}" if values else "-"


def table(results: dict[str, list[tuple[int, float, float]]]) -> str:
    """Markdown: loss at fixed steps, best (step), value MSE there, gap to the reference."""
    steps = (100, 200, 300, 500, 1000)
    lines = [
        "| run | "
        + " | ".join(f"step {s}" for s in steps)
        + " | best (step) | value MSE at best | best - reference |",
        "|---|" + "---|" * (len(steps) + 3),
    ]
    for name, curve in results.items():
        step, best, mse = min(curve, key=lambda point: point[1])
        reference = results.get(f"{name.split()[0]} reference")
        gap = best - min(p for _, p, _ in reference) if reference else float("nan")
        points = " | ".join(at_step(curve, s) for s in steps)
        lines.append(f"| {name} | {points} | {best:.2f} ({step}) | {mse:.3f} | {gap:+.2f} |")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, list[tuple[int, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({name.split()[0] for name in results}, key=lambda size: int(size.split("x")[0]))
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.5), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for name, curve in results.items():
            if name.split()[0] == size:
                style = "k--" if "reference" in name else "-"
                ax.plot([s for s, _, _ in curve], [p for _, p, _ in curve], style, label=name)
        ax.axhline(5.89, color="grey", lw=0.5)  # uniform over 362 moves: ln 362
        ax.set(title=f"{size}: held-out policy loss", xlabel="step", ylabel="nats", ylim=(2.5, 6.5))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="runs, results.csv, table, PNG")
    parser.add_argument("--runs", nargs="*", default=list(RUNS), help=f"from {list(RUNS)}")
    parser.add_argument("--val-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (one thread each)")
    parser.add_argument(
        "--steps", type=int, help="steps of every run (a quick check of the script)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.runs if name not in RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; known: {list(RUNS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    train_dir, val_dir, games = make_games(args.out)
    print(f"{games} games: {len(list(val_dir.glob('*.gz')))} held out, whole games")
    results_path = args.out / "results.csv"
    results = load_results(results_path)
    todo = []
    for name in args.runs:
        steps = args.steps or RUNS[name][3]
        if name not in results or max(s for s, _, _ in results[name]) < steps:
            todo.append((name, steps))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {
            pool.submit(run_one, name, steps, args.val_every, args.seed, args.out): name
            for name, steps in todo
        }
        for future in as_completed(futures):
            name = futures[future]
            results[name], seconds = future.result()
            save_results(results_path, results)
            best = min(p for _, p, _ in results[name])
            print(f"{name}: best {best:.3f} nats, {seconds:.0f} s", flush=True)
    text = table({name: results[name] for name in RUNS if name in results})
    (args.out / "heads.md").write_text(text)
    plot({name: results[name] for name in RUNS if name in results}, args.out / "heads.png")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
