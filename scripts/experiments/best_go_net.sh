#!/usr/bin/env bash
# The strongest Go net this machine makes from GNU Go's games, and its place on the ladder
# (docs/experiments/gnugo-strength.md, "Best net"):
#
#   bash scripts/experiments/best_go_net.sh [OUT]         # default runs/best-go
#
# Data: the first L1_GAMES (200) games of data/gnugo-l1 but seeds 20200-20239 (held out
# whole) and the first L10_GAMES (40) of data/gnugo-l10, as shards with their final areas
# (ownership and score targets). Net: BLOCKS x FILTERS (6x64), conv3 heads, ownership and score
# heads (training-only), AdamW with warm-up then cosine, STEPS (4,000) of 64, value weight VALUE
# (0.25), THREADS torch threads. Ladder (LADDER=0: none): the final net at VISITS (1) against
# GNU Go levels 0 and 1 and level 1 giving 2, 5 and 9 stones (LEVELS), GAMES per rung, each
# handicap rung tied to level 0 by RUNG_GAMES games (level 0 taking the same stones).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/best-go}
zf=${ZF:-.venv/bin/zeroforge}
py=${PY:-.venv/bin/python}
steps=${STEPS:-4000}
blocks=${BLOCKS:-6}
filters=${FILTERS:-64}
threads=${THREADS:-2}
seed=${SEED:-1}
levels=${LEVELS:-0,1,1h2,1h5,1h9}
games=${GAMES:-8}
rung_games=${RUNG_GAMES:-8}
visits=${VISITS:-1}
value=${VALUE:-0.25}
ladder=${LADDER:-1}
l10_games=${L10_GAMES:-40}
l1_games=${L1_GAMES:-200}

held=$(ls data/gnugo-l1/gnugo-l1-s202[0-3][0-9].sgf)  # seeds 20200-20239, never trained on
# shellcheck disable=SC2086  # file names have no spaces
[ -d "$out/train-shards" ] || $zf sgf2chunks --shards \
    $(ls data/gnugo-l1/*.sgf | grep -vxF "$held" | head -n "$l1_games") \
    $(ls data/gnugo-l10/*.sgf | head -n "$l10_games") \
    --out "$out/train-shards" --prefix train --games-per-chunk 8
# shellcheck disable=SC2086
[ -d "$out/held-shards" ] || $zf sgf2chunks --shards $held \
    --out "$out/held-shards" --prefix held --games-per-chunk 8

run="$out/net-s$seed"
[ -f "$run/nets/final.txt.gz" ] || /usr/bin/time -f "training: %e s wall, %U s user CPU" \
    $zf train network=2x16 network.blocks="$blocks" network.filters="$filters" \
    data.train="$out/train-shards" data.val="$out/held-shards" \
    data.sample_rate=1.0 data.batch_size=64 data.shuffle_buffer=262144 \
    data.val_batches=1000 optim=adamw optim.lr=0.002 schedule=warmup_cosine \
    loss.value_weight="$value" loss.ownership_weight=1.5 loss.score_weight=0.5 seed="$seed" \
    train.max_steps="$steps" train.threads="$threads" train.log_every=50 \
    train.val_every=500 train.checkpoint_every=0 train.export_every=1000 \
    train.progress=false out_dir="$run"
$py scripts/experiments/aux_eval.py "$run/checkpoints/last.ckpt" "$out/held-shards"

[ "$ladder" = 1 ] || exit 0
/usr/bin/time -f "ladder: %e s wall" \
    $zf ladder "$run/nets/final.txt.gz" --out "$out/ladder" --levels "$levels" \
    --games "$games" --rung-games "$rung_games" --visits "$visits" --workers 2
