"""Rerun the experiments of docs/experiments: data split, `zeroforge train` runs, `zeroforge
compare` tables and PNGs, `zeroforge match` games, and a per-seed summary.

    .venv/bin/python scripts/experiments/harness.py EXPERIMENT... [--out DIR] [--jobs N]
        [--first RUN_OR_GROUP ...] [--only GROUP ...] [--train-only] [--no-matches]
        [--matches BLACK-vs-WHITE ...] [--dry-run] [--check]

EXPERIMENT names a section of scripts/experiments/experiments.yaml (or give `--config FILE`);
several are trained together, a run they share once. Everything goes under `--out` (default
/tmp/zeroforge-experiments): `data/` (SGFs split by whole games, one chunk file per game, made
once), `runs/NAME-sSEED/` (one `zeroforge train` run each), `matches/BLACK-vs-WHITE/` and
`EXPERIMENT/` (compare tables, PNGs, summary.md). A run whose `nets/final.txt.gz` exists is not
trained again, a run another harness process is still training is waited for, and a match
resumes from its results.jsonl, so rerunning a command (even with another `--first` order)
finishes an interrupted experiment. Runs start as soon as the runs named in their `after` are
done, `--jobs` at a time, each on one torch thread under `nice -n 5`.

The harness only sequences the project's own commands; every number comes from `zeroforge
train`'s metrics.csv (held-out policy loss on the whole held-out set at each validation) and
`zeroforge match`'s summary.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ZEROFORGE = [str(Path(sys.executable).parent / "zeroforge")]
FINAL_NET = "nets/final.txt.gz"
FIXED = ["train.threads=1", "train.progress=false"]  # one torch thread per run: --jobs runs share
STAMP = "harness.json"  # the overrides a run was trained with (a rerun must not mix configs)


def flatten(items: list) -> list[str]:
    """Overrides may nest lists (YAML anchors of shared override sets): flatten them."""
    out: list[str] = []
    for item in items:
        out.extend(flatten(item) if isinstance(item, list) else [str(item)])
    return out


def last_wins(overrides: list[str]) -> list[str]:
    """Hydra refuses a key given twice: keep the last value of each key."""
    values: dict[str, str] = {}
    for override in overrides:
        values.pop(override.split("=", 1)[0], None)
        values[override.split("=", 1)[0]] = override
    return list(values.values())


def load_experiment(config: Path, name: str) -> dict:
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    experiments = doc.get("experiments", {})
    if name not in experiments:
        raise SystemExit(f"{config}: no experiment {name!r} (have: {', '.join(experiments)})")
    return {"common": doc["common"], **experiments[name]}


def run_command(argv: list[str], log: Path | None = None) -> int:
    print("+", " ".join(argv), flush=True)
    if log is None:
        return subprocess.call(argv)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as handle:
        return subprocess.call(argv, stdout=handle, stderr=subprocess.STDOUT)


def prepare_data(common: dict, out: Path) -> Path:
    """SGF games -> data/chunks/{train,val}/, one chunk file per game, whole games held out."""
    data = out / "data"
    if (data / "chunks" / "val").is_dir() and (data / "chunks" / "train").is_dir():
        return data
    holdout = set(common["data"]["holdout"])
    games: list[Path] = []
    for source in common["data"]["sgf"]:
        path = REPO / source
        games.extend(sorted(path.glob("*.sgf")) if path.is_dir() else [path])
    for part in ("train", "val"):
        (data / "sgf" / part).mkdir(parents=True, exist_ok=True)
    for game in games:
        part = "val" if game.name in holdout else "train"
        link = data / "sgf" / part / game.name
        if not link.exists():
            link.symlink_to(game.resolve())
    missing = holdout - {g.name for g in games}
    if missing:
        raise SystemExit(f"held-out games not found among the SGFs: {sorted(missing)}")
    for part in ("train", "val"):
        code = run_command(
            [*ZEROFORGE, "sgf2chunks", str(data / "sgf" / part), "--out",
             str(data / "chunks" / part), "--games-per-chunk", "1"]
        )  # fmt: skip
        if code:
            raise SystemExit(f"sgf2chunks failed ({code}) on {data / 'sgf' / part}")
    return data


def planned_runs(spec: dict, out: Path, data: Path) -> dict[str, dict]:
    """{run dir name: {overrides, after (run dir names)}} for every run and seed."""
    fill = {"runs": str(out / "runs"), "data": str(data)}
    common = flatten(spec["common"]["train"])
    common = [
        f"data.train={data}/chunks/train",
        f"data.val={data}/chunks/val",
        *common,
    ]
    runs = {}
    seeds = sorted({seed for run in spec["runs"].values() for seed in run.get("seeds", [1])})
    for seed, (name, run) in ((s, item) for s in seeds for item in spec["runs"].items()):
        if seed in run.get("seeds", [1]):  # every first seed before any second one
            overrides = [o.format(**fill) for o in flatten(run.get("overrides", []))]
            runs[f"{name}-s{seed}"] = {
                "group": name,
                "overrides": last_wins([*common, *overrides, f"seed={seed}", *FIXED]),
                "after": [a.format(**fill) for a in run.get("after", [])],
            }
    return runs


def check(runs: dict[str, dict]) -> None:
    """Compose each run's config as `zeroforge train` would and build its network: a typo in
    an override fails here, not an hour into the experiment."""
    from omegaconf import OmegaConf

    from zeroforge.commands.train import compose_config
    from zeroforge.nn.checkpoint import build_network

    for name, run in runs.items():
        cfg = compose_config([*run["overrides"], f"out_dir=/nonexistent/{name}"])
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise SystemExit(f"run {name}: missing value(s) {missing}")
        net = build_network(OmegaConf.to_container(cfg.network, resolve=True))
        params = sum(p.numel() for p in net.parameters())
        print(
            f"{name}: {cfg.network.blocks}x{cfg.network.filters} {cfg.network.norm} "
            f"{cfg.optim.name} lr {cfg.optim.lr} {cfg.train.max_steps} steps, {params:,} params"
        )


def is_done(run_dir: Path, overrides: list[str]) -> bool:
    stamp = run_dir / STAMP
    if not (run_dir / FINAL_NET).exists() or not stamp.exists():
        return False
    trained = json.loads(stamp.read_text(encoding="utf-8"))["overrides"]
    if trained != overrides:
        raise SystemExit(
            f"{run_dir} was trained with other overrides than the config now asks for; "
            f"remove it or use another --out\n  then: {trained}\n  now:  {overrides}"
        )
    return True


def running_pid(run_dir: Path) -> int | None:
    """The pid of a `zeroforge train` still writing `run_dir` (started by another harness
    process, e.g. one interrupted and rerun with another order), else None."""
    try:
        pid = json.loads((run_dir / STAMP).read_text(encoding="utf-8"))["pid"]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, KeyError, ValueError):
        return None
    return pid if f"out_dir={run_dir}" in cmdline.split("\0") else None


def start_run(name: str, run: dict, out: Path) -> subprocess.Popen:
    run_dir = out / "runs" / name
    argv = ["nice", "-n", "5", *ZEROFORGE, "train", *run["overrides"], f"out_dir={run_dir}"]
    print("+", " ".join(argv), flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "train.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    stamp = {"overrides": run["overrides"], "pid": process.pid}
    (run_dir / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
    return process


def train_all(runs: dict[str, dict], out: Path, jobs: int, dry_run: bool) -> None:
    """Train every run not done yet, `jobs` at a time (counting runs another harness process
    is still training), each after the runs it names in `after`."""
    pending = {n: r for n, r in runs.items() if not is_done(out / "runs" / n, r["overrides"])}
    active: dict[str, tuple[object, float]] = {}  # name -> (Popen or the pid of another's)
    for name in list(pending):
        pid = running_pid(out / "runs" / name)
        if pid is not None:
            print(f"waiting for {name}: trained by process {pid}", flush=True)
            active[name] = (pid, time.time())
            del pending[name]
    if dry_run:
        for name, run in pending.items():
            print("+", "nice -n 5 zeroforge train", *run["overrides"], f"out_dir={out}/runs/{name}")
        return
    while pending or active:
        for name, (job, started) in list(active.items()):
            if isinstance(job, int):  # another process's run: done when its process is gone
                if running_pid(out / "runs" / name) is not None:
                    continue
                code = 0 if (out / "runs" / name / FINAL_NET).exists() else 1
            elif (code := job.poll()) is None:
                continue
            del active[name]
            if code:
                raise SystemExit(f"run {name} failed ({code}); see {out}/runs/{name}/train.log")
            print(f"done {name} after {time.time() - started:.0f} s", flush=True)
        blocked = set(pending) | set(active)
        ready = [n for n, r in pending.items() if not blocked.intersection(r["after"])]
        while ready and len(active) < jobs:
            name = ready.pop(0)
            active[name] = (start_run(name, pending.pop(name), out), time.time())
        if pending and not active:
            raise SystemExit(f"runs waiting on runs that are not planned: {sorted(pending)}")
        time.sleep(5)


def compare(spec: dict, runs: dict[str, dict], out: Path, report: Path) -> None:
    """`zeroforge compare` per figure: the Markdown table (saved) and the loss PNGs."""
    for figure, groups in spec.get("figures", {}).items():
        names = [n for g in groups for n in runs if runs[n]["group"] == g]
        argv = [
            *ZEROFORGE, "compare", *[str(out / "runs" / n) for n in names],
            "--out", str(report), "--prefix", f"{figure}_",
        ]  # fmt: skip
        table = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        (report / f"{figure}_compare.md").write_text(table, encoding="utf-8")
        print(table)


def play_matches(spec: dict, out: Path, play: bool, only: list[str] | None = None) -> list[dict]:
    """`zeroforge match` for each match of the experiment (`only`: those names), or, with
    play=False, the summaries of the matches already played."""
    settings = spec["common"]["match"]
    results = []
    for match in spec.get("matches", []):
        name = f"{match['black']}-vs-{match['white']}"
        summary = out / "matches" / name / "summary.json"
        nets = [out / "runs" / match[side] / FINAL_NET for side in ("black", "white")]
        if not play or (only and name not in only) or not all(n.exists() for n in nets):
            if summary.exists():
                results.append(json.loads(summary.read_text(encoding="utf-8")))
            continue
        players = [
            f"{match[side]}=leelaz:weights={net},{settings['engine']}"
            for side, net in zip(("black", "white"), nets, strict=True)
        ]
        argv = [
            "nice", "-n", "5", *ZEROFORGE, "match", "--black", players[0], "--white", players[1],
            "--games", str(match.get("games", settings["games"])), "--workers",
            str(settings["workers"]), "--max-moves", str(settings["max_moves"]),
            "--out", str(out / "matches" / name), "--json",
        ]  # fmt: skip
        print("+", " ".join(argv), flush=True)
        done = subprocess.run(argv, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def seed_summary(spec: dict, runs: dict[str, dict], out: Path) -> str:
    """Per run group: held-out policy loss at the checkpoint steps and at its best, per seed,
    with the seeds' mean and spread (max - min): the scale an effect must beat."""
    from zeroforge.analysis.runs import load_run

    steps = spec.get("report_steps", [300, 500])
    header = [
        "run",
        "seeds",
        *[f"val policy @{s}" for s in steps],
        "best (step)",
        "final",
        "final top-1",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in spec["runs"]:
        members = [load_run(out / "runs" / n) for n in runs if runs[n]["group"] == group]
        if not members:
            continue
        cells = [group, str(len(members))]
        for step in steps:
            cells.append(_spread([_at(m, step) for m in members]))
        best = [float("nan") if m.column("val", "val_policy_loss") is None else
                float(min(m.val["val_policy_loss"])) for m in members]  # fmt: skip
        best_steps = [int(m.val["step"][m.val["val_policy_loss"].argmin()]) for m in members]
        cells.append(f"{_spread(best)} ({', '.join(map(str, best_steps))})")
        cells.append(_spread([float(m.val["val_policy_loss"][-1]) for m in members]))
        cells.append(_spread([float(m.val["val_accuracy"][-1]) for m in members], "{:.3f}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _at(run, step: int) -> float:
    hits = [i for i, s in enumerate(run.val["step"]) if s == step]
    return float(run.val["val_policy_loss"][hits[0]]) if hits else math.nan


def _spread(values: list[float], fmt: str = "{:.3f}") -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    mean = sum(values) / len(values)
    return f"{fmt.format(mean)} ± {fmt.format((max(values) - min(values)) / 2)}"


def match_table(results: list[dict]) -> str:
    lines = [
        "| match | games | first player's score | 95 % interval | Elo |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        low, high = r["score_interval"]
        elo = "-" if r["elo"] is None else f"{r['elo']:+.0f}"
        first, second = r["players"]
        lines.append(
            f"| {first} vs {second} | {r['games']} | {r['wins'][first]}-{r['wins'][second]}"
            f" ({r['score']:.2f}) | {low:.2f}-{high:.2f} | {elo} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiments", nargs="+", help="sections of the config, run together")
    parser.add_argument("--config", type=Path, default=HERE / "experiments.yaml")
    parser.add_argument("--out", type=Path, default=Path("/tmp/zeroforge-experiments"))
    parser.add_argument("--jobs", type=int, default=2, help="training runs at a time")
    parser.add_argument("--only", nargs="+", help="train only these run groups, then stop")
    parser.add_argument(
        "--first", nargs="+", help="train these runs or run groups first, in this order"
    )
    parser.add_argument(
        "--no-matches", action="store_true", help="play none (tabulate those already played)"
    )
    parser.add_argument("--matches", nargs="+", help="play only these (BLACK-vs-WHITE)")
    parser.add_argument("--train-only", action="store_true", help="no tables, figures, matches")
    parser.add_argument(
        "--report-only", action="store_true", help="train nothing; report the runs already done"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument(
        "--check", action="store_true", help="compose every run's config and build its net, only"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    specs = {name: load_experiment(args.config, name) for name in args.experiments}
    out = args.out.resolve()
    data = out / "data" if args.check else prepare_data(next(iter(specs.values()))["common"], out)
    plans = {name: planned_runs(spec, out, data) for name, spec in specs.items()}
    runs: dict[str, dict] = {}
    for plan in plans.values():  # the experiments' runs together: shared runs are trained once
        for name, run in plan.items():
            if runs.setdefault(name, run)["overrides"] != run["overrides"]:
                raise SystemExit(f"run {name} is defined twice with different overrides")
    if args.only:
        runs = {n: r for n, r in runs.items() if r["group"] in args.only}
    if args.first:  # run names or groups; the rest keep their order after them
        order = {entry: i for i, entry in enumerate(args.first)}
        rank = {
            n: min(order.get(n, len(order)), order.get(r["group"], len(order)))
            for n, r in runs.items()
        }
        runs = dict(sorted(runs.items(), key=lambda item: rank[item[0]]))
    if args.check:
        check(runs)
        return 0
    if not args.report_only:
        train_all(runs, out, args.jobs, args.dry_run)
    if args.dry_run or args.only or args.train_only:
        return 0
    for name, spec in specs.items():
        report_experiment(name, spec, plans[name], out, not args.no_matches, args.matches)
    return 0


def report_experiment(
    name: str, spec: dict, runs: dict[str, dict], out: Path, play: bool, only: list[str] | None
) -> None:
    report = out / name
    report.mkdir(parents=True, exist_ok=True)
    missing = [n for n in runs if not (out / "runs" / n / FINAL_NET).exists()]
    if missing:
        print(f"{name}: not trained (left out): {', '.join(missing)}", file=sys.stderr)
        runs = {n: r for n, r in runs.items() if n not in missing}
    compare(spec, runs, out, report)
    title = f"# {name}: held-out policy loss (nats), mean ± half-range over seeds"
    sections = [title, "", seed_summary(spec, runs, out)]
    results = play_matches(spec, out, play, only)
    if results:
        sections += ["", "## Matches", "", match_table(results)]
    text = "\n".join(sections) + "\n"
    (report / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"tables and PNGs in {report}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
