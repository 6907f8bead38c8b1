"""Strength of .nnue nets as nnue-pytorch users measure it (docs/experiments/nnue-strength.md).

    python scripts/experiments/nnue_strength.py rate VAL.binpack NAME=NET.nnue... --out DIR
        [--positions 4000] [--games 92] [--nodes 1000] [--workers 1] [--seed 0]
    python scripts/experiments/nnue_strength.py run RUN_DIR VAL.binpack [same options]

Per net, on held-out positions that training would keep (a score, not in check, the move not
a capture), evenly spread over VAL:
- `loss`: the training loss at lambda 1 (nnue_eval.py's, on the net as Stockfish computes it);
- `rho`: Spearman's rank correlation between the net's evaluation, as Stockfish 15.1's `eval`
  prints it with `EvalFile` set to the net ("NNUE evaluation", the net alone), and the search
  scores stored in VAL; `rho_final` the same for the engine's "Final evaluation" (scaled,
  hybrid with classical as Stockfish 15.1 plays). The same figures for Stockfish's classical
  evaluation (`Use NNUE` false) and for Stockfish's own embedded net are the references;
- `elo`: the net in Stockfish 15.1 against Stockfish 15.1's classical evaluation, `--nodes` a
  move each, `--games` games (the shipped 46-line book with both colours, then random plies
  after it for more than 92; `zeroforge match`), with its 95 % interval.

`run` rates every exported net of a training run (matches for the last K with --match-last K) (RUN_DIR/nets/step-*.nnue and final.nnue) and
draws the Elo-vs-steps and rho-vs-steps curves (RUN_DIR/strength.png), like nnue-pytorch's
run_games.py + ordo; results go to RUN_DIR/strength.json, and a rerun reuses finished matches.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import chess
import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nnue_eval import kept_mask, kept_positions, loss, net_values  # noqa: E402

from zeroforge.analysis.nnue_check import eval_output  # noqa: E402
from zeroforge.atomic import atomic_write_bytes  # noqa: E402
from zeroforge.data.chess_decoder import read_decoded  # noqa: E402
from zeroforge.data.chess_records import iter_records  # noqa: E402

BOOK_GAMES = 92  # 46 book lines, both colours


def held_out_fens(val: str, count: int) -> tuple[list[str], np.ndarray]:
    """`count` kept positions (nnue_eval.kept_mask) evenly spread over VAL: FENs and search
    scores (side to move)."""
    records = read_decoded(val)
    kept = np.flatnonzero(kept_mask(records))
    pick = kept[np.linspace(0, len(kept) - 1, min(count, len(kept))).astype(int)]
    wanted = set(pick.tolist())
    fens = [r.fen for i, r in enumerate(iter_records(val)) if i in wanted]
    return fens, records["score"][pick].astype(np.float64)


def stockfish_evals(fens: list[str], evalfile: str | None, classical: bool = False) -> dict:
    """Stockfish 15.1's `eval` of each position, side to move's view, in the pawns it prints:
    {"net": NNUE evaluation or Classical evaluation, "final": Final evaluation}."""
    options = {"Use NNUE": "false"} if classical else None
    out = eval_output(fens, evalfile, options=options)
    blocks = out.split("Final evaluation")
    if len(blocks) != len(fens) + 1:
        raise RuntimeError(f"{len(blocks) - 1} evaluations for {len(fens)} positions")
    nets, finals = [], []
    for fen, block, nxt in zip(fens, blocks[:-1], blocks[1:], strict=True):
        sign = 1.0 if chess.Board(fen).turn == chess.WHITE else -1.0
        own = re.findall(r"^(?:NNUE|Classical) evaluation\s+(\S+)", block, re.M)
        nets.append(sign * float(own[-1]))
        finals.append(sign * float(nxt.split()[0]))
    return {"net": np.asarray(nets), "final": np.asarray(finals)}


def rank_correlations(fens: list[str], scores: np.ndarray, evalfile: str | None,
                      classical: bool = False) -> dict:  # fmt: skip
    evals = stockfish_evals(fens, evalfile, classical)
    return {
        "rho": float(spearmanr(evals["net"], scores).statistic),
        "rho_final": float(spearmanr(evals["final"], scores).statistic),
    }


def match_elo(name: str, net: str, out: Path, games: int, nodes: int, workers: int,
              seed: int) -> dict:  # fmt: skip
    """The net against classical; a rerun resumes the match directory."""
    argv = [
        sys.executable, "-m", "zeroforge.cli", "match",
        "--black", f"stockfish:evalfile={Path(net).resolve()},nodes={nodes}",
        "--white", f"stockfish:use_nnue=false,nodes={nodes}",
        "--games", str(games), "--workers", str(workers), "--seed", str(seed),
        "--resign-score", "1000", "--resign-plies", "4",
        "--draw-score", "10", "--draw-plies", "8", "--draw-min-ply", "80",
        "--out", str(out / f"{name}-vs-classical-n{nodes}"), "--json",
    ]  # fmt: skip
    if games > BOOK_GAMES:
        argv += ["--random-plies", "4"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"match {name}: {done.stderr[-1000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    wins = summary["wins"]
    return {
        "games": summary["games"],
        "score": summary["score"],
        "elo": summary["elo"],
        "elo_interval": summary["elo_interval"],
        "wins": wins[summary["players"][0]],
        "losses": wins[summary["players"][1]],
        "draws": summary["draws"],
    }


def rate(val: str, nets: dict[str, str], args, matched: set[str] | None = None) -> dict:
    """Loss and rho for every net; a match for those in `matched` (all when None)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fens, scores = held_out_fens(val, args.positions)
    kept = kept_positions(val)
    target = kept["score"].astype(np.float64)
    result = {
        "val": val,
        "positions_rho": len(fens),
        "positions_loss": len(target),
        "references": {
            "classical": rank_correlations(fens, scores, None, classical=True),
            "stockfish_net": rank_correlations(fens, scores, None),
        },
        "nets": {},
    }
    print("references", json.dumps(result["references"]), flush=True)
    for name, path in nets.items():
        row = {"path": path, "loss": loss(net_values(path, kept).astype(np.float64), target)}
        row.update(rank_correlations(fens, scores, path))
        if args.games > 0 and (matched is None or name in matched):
            row["match"] = match_elo(name, path, out, args.games, args.nodes, args.workers,
                                     args.seed)  # fmt: skip
        result["nets"][name] = row
        print(name, json.dumps(row), flush=True)
    return result


def step_of(path: Path) -> int | None:
    found = re.search(r"(\d+)", path.stem)
    return int(found.group(1)) if found else None


def plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(r["step"], r) for r in result["nets"].values() if r.get("step") is not None]
    rows.sort(key=lambda item: item[0])
    steps = [s for s, _ in rows]
    fig, (ax_elo, ax_rho) = plt.subplots(1, 2, figsize=(11, 4))
    elos = [r.get("match", {}).get("elo") for _, r in rows]
    lows = [(r.get("match", {}).get("elo_interval") or [None, None])[0] for _, r in rows]
    highs = [(r.get("match", {}).get("elo_interval") or [None, None])[1] for _, r in rows]
    shown = [i for i, e in enumerate(elos) if e is not None]
    ax_elo.errorbar(
        [steps[i] for i in shown], [elos[i] for i in shown],
        yerr=[[elos[i] - (lows[i] if lows[i] is not None else elos[i]) for i in shown],
              [(highs[i] if highs[i] is not None else elos[i]) - elos[i] for i in shown]],
        marker="o", capsize=3,
    )  # fmt: skip
    ax_elo.axhline(0, color="grey", lw=0.8)
    ax_elo.set(xlabel="step", ylabel="Elo vs classical (95 %)", title="Elo vs Stockfish classical")
    ax_rho.plot(steps, [r["rho"] for _, r in rows], marker="o", label="this run's net")
    colours = {"classical": "tab:red", "stockfish_net": "tab:green"}
    for name, ref in result["references"].items():
        ax_rho.axhline(ref["rho"], ls="--", color=colours.get(name), label=name.replace("_", " "))
    ax_rho.set(xlabel="step", ylabel="Spearman rho vs search scores", title="Rank correlation")
    ax_rho.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("rate", "run"):
        p = sub.add_parser(name)
        if name == "run":
            p.add_argument("run_dir")
        p.add_argument("val")
        if name == "rate":
            p.add_argument("nets", nargs="+", metavar="NAME=NET")
            p.add_argument("--out", required=True)
        p.add_argument("--positions", type=int, default=4000)
        p.add_argument("--games", type=int, default=BOOK_GAMES)
        p.add_argument("--nodes", type=int, default=1000)
        p.add_argument("--workers", type=int, default=1)
        p.add_argument("--seed", type=int, default=0)
        if name == "run":
            p.add_argument("--match-last", type=int, default=None, metavar="K",
                           help="play matches for the last K nets only (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "rate":
        nets = dict(item.split("=", 1) for item in args.nets)
        result = rate(args.val, nets, args)
        atomic_write_bytes(Path(args.out) / "strength.json", json.dumps(result, indent=1).encode())
        return 0
    run = Path(args.run_dir)
    files = sorted((run / "nets").glob("*.nnue"), key=lambda p: (step_of(p) is None, step_of(p)))
    if len(files) > 1 and step_of(files[-1]) is None:  # final.nnue: the last step's twin?
        if files[-1].read_bytes() == files[-2].read_bytes():
            files.pop()
    if not files:
        raise SystemExit(f"{run / 'nets'}: no .nnue nets")
    args.out = str(run / "strength")
    matched = None if args.match_last is None else {p.stem for p in files[-args.match_last :]}
    result = rate(args.val, {p.stem: str(p) for p in files}, args, matched)
    for path in files:
        result["nets"][path.stem]["step"] = step_of(path)
    atomic_write_bytes(run / "strength.json", json.dumps(result, indent=1).encode())
    plot(result, run / "strength.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
