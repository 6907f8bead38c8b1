"""How good GNU Go's own judgement is as a training target (docs/experiments/gnugo-strength.md,
"Teacher targets"), on shards of games annotated by `zeroforge annotate --teacher`:

    python scripts/experiments/teacher_stats.py SHARD_DIR

Prints how often its first candidate is the move played, and the value MSE against the result z
of tanh(score / s), GNU Go's score estimate for the side to move as a win estimate, for a range
of scales s (the one with the lowest MSE is a choice for `value.teacher_score_scale`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from zeroforge.formats.shards import read_shard

SCALES = (2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 50.0)


def main(shards: str) -> None:
    parts = [read_shard(path) for path in sorted(Path(shards).glob("*.zfs"))]
    judged = np.concatenate([part.has_teacher for part in parts]) == 1
    moves = np.concatenate([part.teacher_moves for part in parts])[judged]
    played = np.concatenate([part.positions.policy.argmax(axis=1) for part in parts])[judged]
    z = np.concatenate([part.positions.winner for part in parts])[judged].astype(np.float64)
    score = np.concatenate([part.teacher_score for part in parts])[judged].astype(np.float64)
    named = moves[:, 0] >= 0
    print(
        f"{judged.sum()} judged positions; GNU Go names candidates in {named.mean():.3f}, its "
        f"first is the move played in {np.mean(moves[named, 0] == played[named]):.3f} of those, "
        f"the move played is among them in {np.mean((moves == played[:, None]).any(axis=1)):.3f}"
    )
    print(f"mean score for the side to move {score.mean():.2f} points; sign agrees with z "
          f"{np.mean(np.sign(score) == z):.3f}")  # fmt: skip
    for scale in SCALES:
        print(
            f"  s = {scale:5.1f}: MSE of tanh(score / s) vs z {np.mean((np.tanh(score / scale) - z) ** 2):.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1])
