#!/usr/bin/env bash
# The main job on the shipped sample data. Grows with the project: inspect the data,
# train a small net, export it for leelaz, and play a short match.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/demo}
zf=.venv/bin/zeroforge
$zf data inspect data/sample

# Train a 6x64 net on the sample for a few minutes on the CPU (bf16 where the CPU has it).
# The sample is tiny, so every position is used (sample_rate=1.0) and one file is held out;
# a small value weight, as Leela Zero advises: the value head overfits a few hundred games.
steps=${DEMO_STEPS:-300}
$zf train network=6x64 data.train=data/sample data.sample_rate=1.0 data.batch_size=128 \
    data.shuffle_buffer=4096 data.val_fraction=0.15 data.val_batches=4 \
    optim.lr=0.02 schedule=cosine_tail loss.value_weight=0.25 train.max_steps="$steps" \
    train.log_every=10 train.val_every=100 train.checkpoint_every=100 train.export_every=100 \
    out_dir="$out/train"
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
# initialisation, where training starts), both played by leelaz with 8 playouts, games capped
# at 160 moves (scored by GNU Go), two at a time. The table is also in $out/match/summary.md.
.venv/bin/python -c 'import sys, torch
from zeroforge.formats.lzweights import export_net
from zeroforge.nn.lznet import LZNet
torch.manual_seed(0)
export_net(LZNet(6, 64).eval(), sys.argv[1])' "$out/untrained.txt.gz"
rm -rf "$out/match"  # a fresh match each run (a rerun of the same command would resume it)
$zf match --black "trained=leelaz:weights=$out/train/nets/final.txt.gz,playouts=8" \
    --white "untrained=leelaz:weights=$out/untrained.txt.gz,playouts=8" \
    --games 4 --max-moves 160 --workers 2 --out "$out/match"
