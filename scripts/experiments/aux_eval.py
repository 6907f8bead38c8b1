"""Held-out whole games: the value head against the score head (docs/experiments/
gnugo-strength.md, "Ownership and score targets").

    python scripts/experiments/aux_eval.py CHECKPOINT SHARD_DIR

Prints the policy loss (nats) and top-1 against the games' moves, the value MSE and how often the value's sign agrees with the result z; for a net with
the training-only heads also the score head's sign agreement, the MSE of tanh(score) against z,
and the share of owned points (final ownership not 0) whose owner the ownership head gets right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from zeroforge.convert.nets import load_any_net
from zeroforge.data.dataset import make_batch
from zeroforge.formats.shards import read_shard_records


def main(checkpoint: str, shards: str) -> None:
    torch.set_num_threads(1)
    net = load_any_net(checkpoint).eval()
    aux = getattr(net, "aux", None) is not None
    z, value, score, right, owned = [], [], [], 0, 0
    nats, hits = [], []
    for path in sorted(Path(shards).glob("*.zfs")):
        records, _, _ = read_shard_records(path)
        batch = make_batch({k: np.asarray(v) for k, v in records.items()}, None)
        with torch.no_grad():
            if aux:
                logits, v, ownership, s = net.forward_aux(batch["planes"])
                score.append(s.numpy())
                known = batch["ownership"] != 0
                right += int(((torch.sign(ownership) == batch["ownership"]) & known).sum())
                owned += int(known.sum())
            else:
                logits, v = net(batch["planes"])
        target = batch["policy"]
        nats.append((-(target * torch.log_softmax(logits.float(), dim=1)).sum(1)).numpy())
        hits.append((logits.argmax(1) == target.argmax(1)).numpy())
        z.append(batch["z"].numpy())
        value.append(v.numpy())
    z, value = np.concatenate(z), np.concatenate(value)
    print(
        f"{checkpoint}: {len(z)} positions, policy {np.mean(np.concatenate(nats)):.3f} nats, "
        f"top-1 {np.mean(np.concatenate(hits)):.3f}, value MSE {np.mean((value - z) ** 2):.3f}, "
        f"value sign agrees with z {np.mean(np.sign(value) == z):.3f}"
    )
    if aux:
        s = np.concatenate(score)
        print(
            f"  score head: sign agrees with z {np.mean(np.sign(s) == z):.3f}; MSE of "
            f"tanh(score) vs z {np.mean((np.tanh(s) - z) ** 2):.3f}; ownership right on "
            f"{right / owned:.3f} of owned points"
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
