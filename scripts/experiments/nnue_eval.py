"""Held-out numbers of .nnue nets for docs/experiments/nnue-*.md, all from the exported files.

    python scripts/experiments/nnue_eval.py VAL.binpack NAME=NET.nnue... [--out JSON] [--xz PRESET]
        [--teacher NET.nnue] [--holdout SHARE]

VAL is a held-out file, or with --holdout SHARE a training file of which the trainer held out
SHARE (`data.val_fraction` with a single file): its held-out positions are read through the
trainer's own dataset (`position_range=(1 - SHARE, 1)`), so they are exactly the positions the
run validated on.

Per net: the loss nnue-pytorch trains with (lambda 1: mean |sigmoid(net / 361) -
sigmoid(score / 361)| ** 2.5) and the mean |net - score| in internal units, on the held-out
positions that training would keep (no VALUE_NONE, not in check, move not a capture), with the
net computed as Stockfish 15.1 computes it (the exact integer pass, analysis.nnue_eval); with
--teacher also the same loss against the teacher's evaluation (distillation). Dead transformer
units and pairs as `zeroforge analyze` reports them (the function behind its report.json), and the file's
xz size (whole file) with --xz PRESET. Baselines: the best constant prediction (a grid search on the
held-out set itself, so optimistic) and a draw (0).
"""

from __future__ import annotations

import argparse
import json
import lzma

import numpy as np

from zeroforge.analysis.dead import nnue_dead
from zeroforge.analysis.nnue_eval import evaluate_features
from zeroforge.atomic import atomic_write_bytes
from zeroforge.chess.records import VALUE_NONE
from zeroforge.data.chess_dataset import ChessDataset
from zeroforge.data.chess_decoder import FLAG_CAPTURE, FLAG_IN_CHECK, read_decoded
from zeroforge.formats.nnue import read_nnue

SCALE, POWER = 361.0, 2.5  # the training loss's (conf/network/sfnnv5.yaml)
BATCH_KEYS = ("us", "them", "score", "bucket")


def loss(predicted: np.ndarray, target: np.ndarray) -> float:
    p = 1 / (1 + np.exp(-predicted / SCALE))
    t = 1 / (1 + np.exp(-target / SCALE))
    return float(np.mean(np.abs(p - t) ** POWER))


def kept_mask(records: np.ndarray) -> np.ndarray:
    """Which decoded records training keeps: a score, not in check, the move not a capture."""
    return (records["score"] != VALUE_NONE) & (
        (records["flags"] & (FLAG_IN_CHECK | FLAG_CAPTURE)) == 0
    )


def kept_positions(path: str, holdout: float | None = None) -> dict[str, np.ndarray]:
    """The positions training would keep: us, them, score, bucket (layer stack)."""
    if holdout is not None:
        dataset = ChessDataset([path], batch_size=4096, shuffle_buffer=4096,
                               position_range=(1.0 - holdout, 1.0))  # fmt: skip
        batches = list(dataset)
        return {k: np.concatenate([b[k].numpy() for b in batches]) for k in BATCH_KEYS}
    records = read_decoded(path)
    records = records[kept_mask(records)]
    buckets = (records["pieces"].astype(np.int64) - 1) // 4
    return {"us": records["us"], "them": records["them"], "score": records["score"],
            "bucket": buckets}  # fmt: skip


def net_values(path: str, records: dict[str, np.ndarray]) -> np.ndarray:
    return evaluate_features(read_nnue(path), records["us"], records["them"], records["bucket"])


def dead_counts(path: str) -> dict:
    """The dead-unit counts `zeroforge analyze` reports (its report.json "dead" section comes
    from the same function, analysis.dead.nnue_dead), without the rest of its report."""
    dead = nnue_dead(read_nnue(path))
    return {
        "never_positive_units": len(dead["never_positive_units"]),
        "dead_pairs": len(dead["dead_pairs"]),
        "zero_weight_units": len(dead["zero_weight_units"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("val")
    parser.add_argument("nets", nargs="+", metavar="NAME=NET")
    parser.add_argument("--teacher", help="also the loss against this net's evaluation")
    parser.add_argument(
        "--xz", type=int, default=None, metavar="PRESET", help="xz size at this preset"
    )
    parser.add_argument("--holdout", type=float, default=None, metavar="SHARE",
                        help="VAL is a training file: its held-out SHARE (data.val_fraction)")  # fmt: skip
    parser.add_argument("--no-dead", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    records = kept_positions(args.val, args.holdout)
    score = records["score"].astype(np.float64)
    grid = np.arange(-400, 401, 5.0)
    best = min(grid, key=lambda c: loss(np.full_like(score, c), score))
    result = {
        "val": args.val,
        "holdout": args.holdout,
        "positions": len(score),
        "baselines": {
            "draw_0": loss(np.zeros_like(score), score),
            f"best_constant_{best:.0f}": loss(np.full_like(score, best), score),
        },
        "nets": {},
    }
    teacher = net_values(args.teacher, records).astype(np.float64) if args.teacher else None
    if teacher is not None:
        result["baselines"]["teacher_vs_search"] = loss(teacher, score)
    for item in args.nets:
        name, path = item.split("=", 1)
        values = net_values(path, records).astype(np.float64)
        row = {
            "path": path,
            "loss": loss(values, score),
            "cp_mae": float(np.abs(values - score).mean()),
        }
        if teacher is not None:
            row["loss_vs_teacher"] = loss(values, teacher)
            row["cp_mae_vs_teacher"] = float(np.abs(values - teacher).mean())
        if not args.no_dead:
            row["dead"] = dead_counts(path)
        if args.xz is not None:
            with open(path, "rb") as f:
                row[f"xz{args.xz}_bytes"] = len(lzma.compress(f.read(), preset=args.xz))
        result["nets"][name] = row
        print(name, json.dumps(row), flush=True)
    print(json.dumps(result["baselines"]))
    if args.out:
        atomic_write_bytes(args.out, json.dumps(result, indent=1).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
