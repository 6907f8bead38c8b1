#!/usr/bin/env bash
# The main job on the shipped sample data. Grows with the project: inspect the data,
# train a small net, export it for leelaz, and play a short match.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/demo}
zf=.venv/bin/zeroforge
$zf data inspect data/sample

# Train a small net (2 blocks x 32 filters) on the 56 GNU Go games of the sample (gnugo/ and
# gnugo48/, 12.5k positions; the random-net self-play in selfplay/ would only teach noise), a few
# minutes on the CPU (bf16 where the CPU has it). Every position is used (sample_rate=1.0) and one
# file is held out; a small value weight, as Leela Zero advises. AdamW at 0.002 with a warm-up /
# cosine schedule over 6,000 steps of 64: every run first sits on a plateau (the policy predicts
# the marginal move frequencies, ~5.7 nats) and leaves it after 1,500-2,000 steps at a high learning
# rate (docs/experiments/distillation.md); 300 SGD steps never did, and that net lost 0-4.
blocks=${DEMO_BLOCKS:-2}
filters=${DEMO_FILTERS:-32}
steps=${DEMO_STEPS:-6000}
$zf train network=2x16 network.blocks="$blocks" network.filters="$filters" \
    'data.train=[data/sample/gnugo,data/sample/gnugo48]' data.sample_rate=1.0 \
    data.batch_size=64 data.shuffle_buffer=16384 data.val_fraction=0.15 data.val_batches=20 \
    optim=adamw optim.lr=0.002 schedule=warmup_cosine loss.value_weight=0.25 \
    train.max_steps="$steps" train.threads=2 train.log_every=50 train.val_every=500 \
    train.checkpoint_every=1000 train.export_every=1000 out_dir="$out/train"
echo "== training log (last rows of $out/train/metrics.csv)"
tail -n 5 "$out/train/metrics.csv"

# The exported net is a plain Leela Zero weights file: check it, then let leelaz load it,
# print its raw network output (heatmap) and choose a move.
$zf weights check "$out/train/nets/final.txt.gz"
$zf evaluate "$out/train/nets/final.txt.gz" --moves "b Q16 w D4"
echo "== leelaz on $out/train/nets/final.txt.gz"
printf 'play b Q16\nplay w D4\nheatmap\ngenmove b\nquit\n' |
    /usr/games/leelaz --cpu-only -g --noponder -t 1 -p 50 -w "$out/train/nets/final.txt.gz"

# A short match: the trained net against an untrained net of the same shape (PyTorch's
# initialisation, where training starts), both played by leelaz with 16 playouts and the first
# 10 moves of each side drawn at random (-m 10, so the games differ), no resignation (the
# value head of a net trained on 56 games is unreliable), games capped at 250 moves
# (scored by GNU Go), two at a time. The table is also in $out/match/summary.md.
$zf weights init --blocks "$blocks" --filters "$filters" --seed 0 "$out/untrained.txt.gz"
rm -rf "$out/match"  # a fresh match each run (a rerun of the same command would resume it)
$zf match --black "trained=leelaz:weights=$out/train/nets/final.txt.gz,playouts=16,random_moves=10,resign=0" \
    --white "untrained=leelaz:weights=$out/untrained.txt.gz,playouts=16,random_moves=10,resign=0" \
    --games 4 --max-moves 250 --workers 2 --out "$out/match"
