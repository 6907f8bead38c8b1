#!/usr/bin/env bash
# Does the value head generalise with ownership and score targets, or with GNU Go's teacher
# targets? (docs/experiments/gnugo-strength.md, "Ownership and score targets", "Teacher
# targets"). Runs of one recipe and seed, with and without the training-only targets,
# validated on whole held-out games:
#
#   bash scripts/experiments/aux_targets.sh [OUT]        # default runs/aux-targets
#
# Data: data/gnugo-l1 (annotated with TB/TW by `zeroforge annotate`): the first TRAIN_GAMES
# (200: seeds 20000-20199) of CORPUS (default data/gnugo-l1; for the teacher arms a folder of
# copies annotated by `zeroforge annotate --teacher`) train, leaving out the 40 games of
# data/gnugo-l1 with seeds 20200-20239, which are held out whole. Arms: plain, aux (ownership +
# score heads), tpolicy (soft policy from GNU Go's candidates), tvalue (z blended with GNU Go's
# score estimate), teacher (both). Knobs (environment): STEPS, BATCH, BLOCKS, FILTERS, SEED, VALUE
# (loss.value_weight, 0.25), OWNERSHIP (loss.ownership_weight), SCORE (loss.score_weight),
# TPOLICY and TEMPERATURE (loss.teacher_policy_weight, loss.teacher_temperature), TVALUE and
# TSCALE (value.teacher_ratio, value.teacher_score_scale), CORPUS, TRAIN_GAMES, ARMS.
# A finished arm (nets/final.txt.gz) is not trained again.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/aux-targets}
zf=${ZF:-.venv/bin/zeroforge}
steps=${STEPS:-2000}
batch=${BATCH:-64}
blocks=${BLOCKS:-2}
filters=${FILTERS:-32}
seed=${SEED:-1}
value=${VALUE:-0.25}
ownership=${OWNERSHIP:-1.5}
score=${SCORE:-0.5}
tpolicy=${TPOLICY:-0.5}
temperature=${TEMPERATURE:-1.0}
tvalue=${TVALUE:-0.5}
tscale=${TSCALE:-30.0}
corpus=${CORPUS:-data/gnugo-l1}
train_games=${TRAIN_GAMES:-200}
arms=${ARMS:-"plain aux"}

held=$(ls data/gnugo-l1/gnugo-l1-s202[0-3][0-9].sgf)  # seeds 20200-20239, never trained on
# shellcheck disable=SC2086  # file names have no spaces
[ -d "$out/train-shards" ] || $zf sgf2chunks --shards \
    $(ls "$corpus"/*.sgf | sort | grep -vxF "$held" | head -n "$train_games") \
    --out "$out/train-shards" --prefix train --games-per-chunk 8
# shellcheck disable=SC2086
[ -d "$out/held-shards" ] || $zf sgf2chunks --shards $held \
    --out "$out/held-shards" --prefix held --games-per-chunk 8

for arm in $arms; do
    run="$out/$arm-s$seed"
    [ -f "$run/nets/final.txt.gz" ] && continue
    soft_policy=(loss.teacher_policy_weight="$tpolicy" loss.teacher_temperature="$temperature")
    soft_value=(value.teacher_ratio="$tvalue" value.teacher_score_scale="$tscale")
    case "$arm" in
        plain) extra=() ;;
        aux) extra=(loss.ownership_weight="$ownership" loss.score_weight="$score") ;;
        tpolicy) extra=("${soft_policy[@]}") ;;
        tvalue) extra=("${soft_value[@]}") ;;
        teacher) extra=("${soft_policy[@]}" "${soft_value[@]}") ;;
        *) echo "unknown arm $arm" >&2; exit 1 ;;
    esac
    /usr/bin/time -f "$arm: %e s wall, %U s user CPU" \
        $zf train network=2x16 network.blocks="$blocks" network.filters="$filters" \
        data.train="$out/train-shards" data.val="$out/held-shards" \
        data.sample_rate=1.0 data.batch_size="$batch" data.shuffle_buffer=65536 \
        data.val_batches=1000 optim=adamw optim.lr=0.002 schedule=warmup_cosine \
        loss.value_weight="$value" seed="$seed" train.max_steps="$steps" train.threads=1 \
        train.log_every=50 train.val_every=250 train.checkpoint_every=0 \
        train.export_every=500 train.progress=false out_dir="$run" "${extra[@]}"
done
for arm in $arms; do
    echo "== $arm: step, held-out policy loss, top-1, value MSE, ownership loss, score loss"
    python3 - "$out/$arm-s$seed/metrics.csv" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["val_loss"]:
        print(row["step"], row["val_policy_loss"], row["val_accuracy"], row["val_value_mse"],
              row.get("val_ownership_loss") or "-", row.get("val_score_loss") or "-")
PY
done
