#!/usr/bin/env bash
# The main job on the shipped sample data. Grows with the project: inspect the data,
# train a small net, export it for leelaz, and rate it on a ladder of GNU Go levels.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/demo}
zf=.venv/bin/zeroforge
$zf data inspect data/sample

# Train a small net (2 blocks x 32 filters) on the 56 GNU Go games of the sample (gnugo/ and
# gnugo48/, 12.5k positions; the random-net self-play in selfplay/ would only teach noise), under
# a minute on an idle 2-core CPU (bf16 where the CPU has it). Every position is used
# (sample_rate=1.0) and one file (8 whole games) is held out; a small value weight, as Leela Zero
# advises. The heads train as a convolutional net would (network.head=conv3, the
# default: docs/experiments/heads.md) and leave the uniform plateau (5.9 nats) within the first
# few hundred steps; the exported file is a plain Leela Zero net all the same.
blocks=${DEMO_BLOCKS:-2}
filters=${DEMO_FILTERS:-32}
steps=${DEMO_STEPS:-1500}
$zf train network=2x16 network.blocks="$blocks" network.filters="$filters" \
    'data.train=[data/sample/gnugo,data/sample/gnugo48]' data.sample_rate=1.0 \
    data.batch_size=64 data.shuffle_buffer=16384 data.val_fraction=0.15 data.val_batches=40 \
    optim=adamw optim.lr=0.002 schedule=warmup_cosine loss.value_weight=0.25 \
    train.max_steps="$steps" train.threads=2 train.log_every=50 train.val_every=250 \
    train.checkpoint_every=500 train.export_every=500 out_dir="$out/train"
echo "== training log (last rows of $out/train/metrics.csv)"
tail -n 5 "$out/train/metrics.csv"

# The exported net is a plain Leela Zero weights file: check it, then let leelaz load it,
# print its raw network output (heatmap) and choose a move.
$zf weights check "$out/train/nets/final.txt.gz"
$zf evaluate "$out/train/nets/final.txt.gz" --moves "b Q16 w D4"
echo "== leelaz on $out/train/nets/final.txt.gz"
printf 'play b Q16\nplay w D4\nheatmap\ngenmove b\nquit\n' |
    /usr/games/leelaz --cpu-only -g --noponder -t 1 -p 50 -w "$out/train/nets/final.txt.gz"

# The net's place on a strength ladder against real opponents: GNU Go 3.8 at levels 0 and 1
# (the rungs; level 1 = 0 Elo). The net (leelaz, 50 visits per move, no resignation: the value
# head of a net trained on 56 games is unreliable) plays 4 games against each rung and the two
# rungs play 4 games against each other (both colours, capped at 300 moves, scored by GNU Go,
# Chinese rules), two games at a time. One Bradley-Terry fit with a virtual draw per pairing
# gives every player a finite Elo with its 95 % interval, even a net that lost every game
# (`zeroforge ladder`; $out/ladder/ladder.md).
rm -rf "$out/ladder"  # a fresh ladder each run (a rerun of the same command would resume it)
$zf ladder "$out/train/nets/final.txt.gz" --out "$out/ladder" --levels 0,1 --games 4 \
    --rung-games 4 --visits 50 --workers 2 --max-moves 300
