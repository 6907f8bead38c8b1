#!/usr/bin/env bash
# Strength against a real opponent (docs/experiments/gnugo-strength.md): train a Leela Zero net
# on the committed GNU Go corpus (data/gnugo-l1) plus the sample's 48 GNU Go games, export it,
# and play it with leelaz at fixed visits against GNU Go level 1, both colours alternating.
#
#   bash scripts/gnugo_strength.sh [OUT]        # default runs/gnugo-strength
#
# Knobs (environment): CORPUS_GAMES (the first N games of data/gnugo-l1 by seed; default all),
# BLOCKS, FILTERS (net size), HEAD (network.head), STEPS (of BATCH positions), LR, VISITS (a space-separated list:
# one match per value), GAMES (per match), WORKERS (games at once). The defaults are the
# recorded run except CORPUS_GAMES (it used 45).
# Rerunning resumes each match from OUT/match-vV/results.jsonl (delete OUT to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gnugo-strength}
zf=${ZF:-.venv/bin/zeroforge}
blocks=${BLOCKS:-2}
filters=${FILTERS:-32}
head=${HEAD:-conv_residual}  # the recorded run; main's default head is now conv3
steps=${STEPS:-3000}
batch=${BATCH:-64}
lr=${LR:-0.002}
visits=${VISITS:-"1 100"}
games=${GAMES:-16}
corpus_games=${CORPUS_GAMES:-100000}
workers=${WORKERS:-2}

# One record per move of every game (sample_rate 1.0: the corpus is small), 8 games per chunk.
# Held out: the 8 games of data/sample/gnugo (other seeds, same engine and level), for the curve.
# shellcheck disable=SC2046  # file names have no spaces
$zf sgf2chunks $(ls data/gnugo-l1/*.sgf | sort | head -n "$corpus_games") \
    --out "$out/chunks" --prefix gnugo-l1 --games-per-chunk 8
if [ ! -f "$out/train/nets/final.txt.gz" ]; then
    $zf train network=2x16 network.blocks="$blocks" network.filters="$filters" \
        network.head="$head" network.head_residual_l2=1e-3 \
        "data.train=[$out/chunks,data/sample/gnugo48]" data.val=data/sample/gnugo \
        data.sample_rate=1.0 data.batch_size="$batch" data.shuffle_buffer=65536 \
        data.val_batches=30 optim=adamw optim.lr="$lr" schedule=warmup_cosine \
        loss.value_weight=0.25 train.max_steps="$steps" train.threads=1 train.log_every=50 \
        train.val_every=500 train.checkpoint_every=1000 train.export_every=0 \
        train.progress=false out_dir="$out/train"
fi
tail -n 3 "$out/train/metrics.csv"

# leelaz without resignation (a value head trained on a few hundred games misjudges), GNU Go
# level 1 with Chinese rules and a seed per game; games capped at 500 moves, scored by GNU Go.
for v in $visits; do
    $zf match --black "net=leelaz:weights=$out/train/nets/final.txt.gz,visits=$v,resign=0" \
        --white "gnugo1=gnugo:level=1" --games "$games" --workers "$workers" \
        --max-moves 500 --out "$out/match-v$v"
done
