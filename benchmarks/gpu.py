"""GPU throughput of zeroforge's two training recipes, each beside a bare PyTorch loop on the
same device in the same run (docs/PERFORMANCE.md, "GPU").

    python benchmarks/gpu.py --out DIR [--quick]

- Go: the Leela Zero net (10x128, 20x256), batch 256 and 1,024, fp32 and bf16 autocast
  (channels_last): a bare loop on random tensors already on the GPU (SGD with Nesterov, policy
  cross-entropy + value MSE), then `zeroforge train` end to end on the shipped chunks (DataLoader
  workers parsing gzip chunks, shuffle buffer, symmetries, Lightning, EMA, logging), its rate
  the median of per-step rates from metrics.csv;
- chess: SFNNv5 (`network=sfnnv5`), batch 16,384 and 1,024: the recipe's own step on one batch
  resident on the GPU (bare) against `zeroforge train` end to end on the shipped .binpack
  (the compiled decoder in DataLoader workers).

Figures go to DIR/gpu.json and DIR/gpu.md as they are measured, so a run cut short keeps what it
finished. Needs CUDA; on a CPU it runs the same code with `--quick` as a smoke test.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from zeroforge.go.geometry import NUM_MOVES  # noqa: E402
from zeroforge.go.planes import INPUT_PLANES  # noqa: E402
from zeroforge.nn.lznet import LZNet  # noqa: E402
from zeroforge.train import losses  # noqa: E402

GO_DATA = str(ROOT / "data" / "sample" / "gnugo")
CHESS_DATA = str(ROOT / "data" / "sample" / "chess" / "sf15-d6.binpack")


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed_rate(step, batch: int, steps: int, device: str) -> float:
    """Samples/s of `steps` calls of `step` after 3 of warm-up."""
    for _ in range(3):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return batch * steps / (time.perf_counter() - start)


def bare_lz(blocks: int, filters: int, batch: int, bf16: bool, steps: int, device: str) -> float:
    """Samples/s of a plain LZ training loop on random tensors resident on `device`."""
    torch.manual_seed(0)
    net = LZNet(blocks, filters).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    planes = (torch.rand(batch, INPUT_PLANES, 19, 19, device=device) < 0.2).float()
    planes = planes.contiguous(memory_format=torch.channels_last)
    policy = torch.softmax(torch.randn(batch, NUM_MOVES, device=device), dim=1)
    z = torch.randint(0, 2, (batch,), device=device).float() * 2 - 1

    def step():
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            logits, value = net(planes)
        loss = losses.policy_cross_entropy(logits, policy) + losses.value_mse(value, z)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return timed_rate(step, batch, steps, device)


def train_rate(overrides: list[str], steps: int, out_dir: Path, warmup: int = 5) -> float:
    """`zeroforge train` for warmup + steps steps, logging every step: median samples/s."""
    from zeroforge.commands.train import main

    args = overrides + [
        f"train.max_steps={warmup + steps}",
        "train.log_every=1",
        "train.val_every=0",
        "train.checkpoint_every=0",
        "train.export_every=0",
        "train.progress=false",
        "data.val_fraction=0",
        f"out_dir={out_dir}",
    ]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"zeroforge train {' '.join(args)} exited {code}")
    with open(out_dir / "metrics.csv") as handle:
        rates = [float(r["samples_per_s"]) for r in csv.DictReader(handle) if r["samples_per_s"]]
    return statistics.median(rates[warmup:])


def bare_nnue(batch: int, steps: int, device: str) -> float:
    """Positions/s of the chess recipe's own step (ChessGame's loss, ranger_nnue with the
    recipe's lazy rows, clipping) on one batch resident on `device`, built as `zeroforge bench
    --only nnue` builds it. (docs/PERFORMANCE.md's GPU table was measured before lazy rows
    were the default: dense updates on both sides.)"""
    from zeroforge.bench.nnue import _recipe

    game, net, optimizer, batch_data = _recipe(batch, lazy_rows=True)
    net.to(device)  # the parameters stay the same objects: the optimiser has no state yet
    batch_data = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch_data.items()}

    def step():
        loss = game.losses(net, batch_data, 0, True)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        game.after_step(net)

    return timed_rate(step, batch, steps, device)


def pipeline_rate(overrides: list[str], files: list[str], workers: int, batches: int) -> float:
    """Samples/s of the recipe's training data stream alone (DataLoader workers, pinned
    memory as `zeroforge train` uses them on a GPU), after 3 batches of warm-up."""
    from omegaconf import OmegaConf

    from zeroforge.commands.train import compose_config
    from zeroforge.train.datamodule import DataStream
    from zeroforge.train.games import game_for
    from zeroforge.train.recipe import module_config

    cfg = compose_config(overrides + ["train.max_steps=1000"])
    game = game_for(module_config(cfg, channels_last=False))
    data = OmegaConf.to_container(cfg.data, resolve=True)
    stream = iter(DataStream(game.dataset(files, data, 0, True), workers))
    for _ in range(3):
        next(stream)
    start, samples = time.perf_counter(), 0
    for _ in range(batches):
        batch = next(stream)
        samples += game.batch_size(batch)
    return samples / (time.perf_counter() - start)


class Report:
    def __init__(self, out: Path):
        self.out, self.figures, self.lines, self.errors = out, {}, [], []

    def add(self, key: str, value: float, line: str) -> None:
        self.figures[key] = value
        self.lines.append(line)
        print(line, flush=True)
        self.write()

    def fail(self, what: str) -> None:
        self.errors.append(f"{what}: {traceback.format_exc(limit=3)}")
        print(self.errors[-1], flush=True)
        self.write()

    def write(self) -> None:
        (self.out / "gpu.json").write_text(
            json.dumps({"figures": self.figures, "errors": self.errors}, indent=1)
        )
        (self.out / "gpu.md").write_text("\n".join(self.lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pipeline", action="store_true", help="the data streams alone")
    parser.add_argument("--batches", type=int, default=20, help="batches timed per stream")
    parser.add_argument("--only", choices=("go", "chess"), help="one recipe only")
    parser.add_argument("--workers", type=int, default=6, help="DataLoader workers")
    parser.add_argument("--chess-data", default=CHESS_DATA, help="a bigger .binpack to stream")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    report = Report(out)
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    report.add("cpu_count", os.cpu_count() or 0,
               f"device: {name}; torch {torch.__version__}; {os.cpu_count()} CPU cores")  # fmt: skip
    quick = args.quick
    if args.pipeline:
        chess_data = args.chess_data
        for workers in (1, 2) if quick else (1, 4, 12):
            for label, overrides, files, batch in (
                ("go", ["network=10x128", f"data.train={GO_DATA}", "data.batch_size=1024",
                        "data.shuffle_buffer=8192"], [GO_DATA], 1024),
                ("go_sample_rate_1", ["network=10x128", f"data.train={GO_DATA}",
                                      "data.batch_size=1024", "data.shuffle_buffer=8192",
                                      "data.sample_rate=1.0"], [GO_DATA], 1024),
                ("chess", ["network=sfnnv5", f"data.train={chess_data}",
                           "data.batch_size=16384", "data.shuffle_buffer=65536"],
                 [chess_data], 16384),
            ):  # fmt: skip
                try:
                    rate = pipeline_rate(overrides, files, workers, 3 if quick else args.batches)
                    report.add(f"{label}_pipeline_w{workers}", rate,
                               f"{label} data stream, batch {batch}, {workers} workers: "
                               f"{rate:,.0f} samples/s")  # fmt: skip
                except Exception:  # noqa: BLE001
                    report.fail(f"{label} pipeline {workers}")
        return 0
    nets = [(2, 16)] if quick else [(10, 128), (20, 256)]
    batches = [64] if quick else [256, 1024]
    steps = 3 if quick else 30
    work = Path(tempfile.mkdtemp(prefix="zfgpu-"))
    workers = 1 if quick else args.workers
    for blocks, filters in [] if args.only == "chess" else nets:
        for batch in batches:
            for bf16 in (False, True):
                tag = f"{blocks}x{filters} b{batch} {'bf16' if bf16 else 'fp32'}"
                try:
                    bare = bare_lz(blocks, filters, batch, bf16, steps, device)
                    report.add(f"go_bare_{tag}", bare, f"go bare {tag}: {bare:,.0f} samples/s")
                except Exception:  # noqa: BLE001 - keep measuring the rest
                    report.fail(f"go bare {tag}")
                    continue
                if not bf16 and not quick:
                    continue  # end-to-end runs in the recipe's precision (auto = bf16) only
                try:
                    rate = train_rate(
                        [f"network={blocks}x{filters}", f"data.train={GO_DATA}",
                         f"data.batch_size={batch}", f"data.workers={workers}",
                         "data.shuffle_buffer=8192",
                         f"train.precision={'bf16-mixed' if bf16 else '32'}"],
                        steps, work / f"go-{blocks}x{filters}-{batch}-{bf16}",
                    )  # fmt: skip
                    report.add(f"go_train_{tag}", rate,
                               f"go zeroforge train {tag} ({workers} workers): {rate:,.0f} "
                               f"samples/s = {rate / bare:.2f} of bare")  # fmt: skip
                except Exception:  # noqa: BLE001
                    report.fail(f"go train {tag}")
    for batch in [] if args.only == "go" else [1024] if quick else [1024, 16384]:
        tag = f"sfnnv5 b{batch}"
        try:
            bare = bare_nnue(batch, steps, device)
            report.add(f"chess_bare_{tag}", bare, f"chess bare {tag}: {bare:,.0f} positions/s")
        except Exception:  # noqa: BLE001
            report.fail(f"chess bare {tag}")
            bare = None
        try:
            rate = train_rate(
                ["network=sfnnv5", f"data.train={args.chess_data}", f"data.batch_size={batch}",
                 f"data.workers={workers}", "data.shuffle_buffer=65536"],
                steps, work / f"chess-{batch}",
            )  # fmt: skip
            ratio = f" = {rate / bare:.2f} of bare" if bare else ""
            report.add(f"chess_train_{tag}", rate,
                       f"chess zeroforge train {tag} ({workers} workers): {rate:,.0f} "
                       f"positions/s{ratio}")  # fmt: skip
        except Exception:  # noqa: BLE001
            report.fail(f"chess train {tag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
