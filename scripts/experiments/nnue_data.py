"""Split a gensfen run into training and held-out .binpack files by whole games.

    python scripts/experiments/nnue_data.py GENSFEN.plain OUT_DIR [--val-games N] [--games N]

gensfen's log (GENSFEN.gensfen.jsonl, one line per published game, in file order, with its
position count) tells where each game's records are, so the split never cuts a game and the
held-out games are the last N the run wrote (other seeds, never trained on). A run still
writing is fine: only games already logged are read. Writes OUT_DIR/train.binpack,
OUT_DIR/val.binpack and OUT_DIR/split.json (games, positions, source).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

from zeroforge.atomic import atomic_write_bytes
from zeroforge.data.chess_records import iter_records, write_records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out_dir")
    parser.add_argument("--val-games", type=int, default=80)
    parser.add_argument("--games", type=int, default=None, help="use the first N logged games")
    args = parser.parse_args(argv)
    with open(f"{args.source}.gensfen.jsonl") as log:
        games = [json.loads(line) for line in log if line.strip()]
    games = games[: args.games] if args.games else games
    if len(games) <= args.val_games:
        sys.exit(f"{args.source}: {len(games)} games logged, need more than {args.val_games}")
    train_games = games[: -args.val_games]
    n_train = sum(g["positions"] for g in train_games)
    n_total = sum(g["positions"] for g in games)
    os.makedirs(args.out_dir, exist_ok=True)
    records = iter_records(args.source)
    written = {
        "train": write_records(
            os.path.join(args.out_dir, "train.binpack"), itertools.islice(records, n_train)
        ),
        "val": write_records(
            os.path.join(args.out_dir, "val.binpack"),
            itertools.islice(records, n_total - n_train),
        ),
    }
    if written != {"train": n_train, "val": n_total - n_train}:
        sys.exit(f"{args.source}: log says {n_train}/{n_total - n_train}, read {written}")
    summary = {
        "source": os.path.abspath(args.source),
        "train_games": len(train_games),
        "val_games": args.val_games,
        "train_positions": n_train,
        "val_positions": n_total - n_train,
    }
    atomic_write_bytes(
        os.path.join(args.out_dir, "split.json"), json.dumps(summary, indent=1).encode()
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
