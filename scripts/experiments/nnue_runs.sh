#!/usr/bin/env bash
# The training runs of docs/experiments/nnue-3274.md and nnue-distillation.md, through the one
# recipe (`zeroforge train network=sfnnv5`), ONE AT A TIME (one core each: train.threads=1).
# Usage: scripts/experiments/nnue_runs.sh RUN... (names below, each optionally -sN for seed N
# instead of 1: `cosine-s2`; default: every run with seed 1)
# Env: EXP (outputs, default /work/scratch/nnuexp2), DATA (the gensfen .binpack, default
# /work/scratch/nnue/data/d6.binpack, nnue-first-net.md), STEPS (default 600), ZF (the CLI).
# Validation: the last 5 % of the file's positions (data.val_fraction=0.05), the same positions
# for the teacher run, whose file `zeroforge nnue relabel` writes record for record
# ($EXP/data/d6-teacher.binpack).
set -euo pipefail
EXP=${EXP:-/work/scratch/nnuexp2}
DATA=${DATA:-/work/scratch/nnue/data/d6.binpack}
STEPS=${STEPS:-600}
ZF=${ZF:-.venv/bin/zeroforge}
TEACHER_DATA=$EXP/data/d6-teacher.binpack
common=(network=sfnnv5 data.val_fraction=0.05 data.val_batches=16 data.batch_size=1024
        data.workers=0 train.threads=1 train.max_steps=$STEPS train.log_every=20
        train.val_every=50 train.checkpoint_every=$STEPS train.export_every=0 train.progress=none)

run() {  # NAME OVERRIDES...
  local name=$1; shift
  mkdir -p "$EXP/runs"
  nice -n 5 "$ZF" train "${common[@]}" out_dir="$EXP/runs/$name" "$@" \
    > "$EXP/runs/$name.log" 2>&1
}

declare -A RUNS=(
  [cosine]="data.train=$DATA schedule=cosine_tail"  # nnue-pytorch's recipe: the baseline
  [flat]="data.train=$DATA schedule=flat"
  [step]="data.train=$DATA schedule=step"
  [l2]="data.train=$DATA schedule=cosine_tail optim.l2=1e-6"
  [nodchip]="data.train=$DATA schedule=cosine_tail init=nodchip"
  [teacher]="data.train=$TEACHER_DATA schedule=cosine_tail"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(cosine nodchip flat step l2 teacher)
for name in "${names[@]}"; do
  base=${name%-s[0-9]*} seed=1
  [ "$base" = "$name" ] || seed=${name##*-s}
  # shellcheck disable=SC2086
  run "$name" ${RUNS[$base]} seed=$seed
done
