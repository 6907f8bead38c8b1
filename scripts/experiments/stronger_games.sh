#!/usr/bin/env bash
# Do stronger games teach more? GNU Go level 10 against level 1 as training data
# (docs/experiments/gnugo-strength.md, "Stronger games"):
#
#   bash scripts/experiments/stronger_games.sh [OUT]      # default runs/stronger-games
#
# Three data sets, each trained by aux_targets.sh's recipe (2x32, 2,000 steps of 64, arms
# plain and aux) and validated on the same held-out level-1 games (data/gnugo-l1 seeds
# 20200-20239):
#   l1-N    the first N games of data/gnugo-l1                (equal games)
#   l10-N   the first N games of data/gnugo-l10               (level 10, 4x the CPU a game)
#   l1-WIDE the first WIDE (200) games of data/gnugo-l1        (200 x 20 CPU-s a game: about
#                                                              the CPU of 40 level-10 games)
# Each final net is also scored on the level-10 games after the first N (held out whole).
# Knobs (environment): N (default 40), WIDE, SEED, ARMS and aux_targets.sh's own.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/stronger-games}
n=${N:-40}
seed=${SEED:-1}
arms=${ARMS:-"plain aux"}
wide=${WIDE:-200}
l10=${L10:-data/gnugo-l10}
zf=${ZF:-.venv/bin/zeroforge}
py=${PY:-.venv/bin/python}
mkdir -p "$out"

# shellcheck disable=SC2086  # file names have no spaces
[ -d "$out/held-l10" ] || $zf sgf2chunks --shards $(ls "$l10"/*.sgf | sort | tail -n +$((n + 1))) \
    --out "$out/held-l10" --prefix held --games-per-chunk 8

CORPUS=data/gnugo-l1 TRAIN_GAMES=$n ARMS=$arms SEED=$seed \
    bash scripts/experiments/aux_targets.sh "$out/l1-$n"
CORPUS=$l10 TRAIN_GAMES=$n ARMS=$arms SEED=$seed \
    bash scripts/experiments/aux_targets.sh "$out/l10-$n"
CORPUS=data/gnugo-l1 TRAIN_GAMES=$wide ARMS=$arms SEED=$seed \
    bash scripts/experiments/aux_targets.sh "$out/l1-$wide"

for data in "l1-$n" "l10-$n" "l1-$wide"; do
    for arm in $arms; do
        ckpt="$out/$data/$arm-s$seed/checkpoints/last.ckpt"
        echo "== $data $arm, held-out level-1 games"
        $py scripts/experiments/aux_eval.py "$ckpt" "$out/$data/held-shards"
        echo "== $data $arm, held-out level-10 games"
        $py scripts/experiments/aux_eval.py "$ckpt" "$out/held-l10"
    done
done
