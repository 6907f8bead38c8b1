#!/usr/bin/env bash
# The training runs of docs/experiments/nnue-*.md, through the one recipe (`zeroforge train
# network=sfnnv5`). Usage: scripts/experiments/nnue_runs.sh RUN... (names below; default: all)
# Env: EXP (outputs, default /work/scratch/nnueexp), STEPS (default 40), ZF (the CLI).
# Data: $EXP/data/{train,val}.binpack from scripts/experiments/nnue_data.py, and for the
# distillation run $EXP/data/train-teacher.binpack from `zeroforge nnue relabel`.
set -euo pipefail
EXP=${EXP:-/work/scratch/nnueexp}
STEPS=${STEPS:-40}
ZF=${ZF:-.venv/bin/zeroforge}
D=$EXP/data
common=(network=sfnnv5 data.val=$D/val.binpack data.batch_size=1024 data.val_batches=4 data.workers=0
        train.max_steps=$STEPS train.log_every=10 train.val_every=$STEPS
        train.checkpoint_every=100000 seed=1)

run() {  # NAME OVERRIDES...
  local name=$1; shift
  mkdir -p "$EXP/runs"
  nice -n 5 "$ZF" train "${common[@]}" out_dir="$EXP/runs/$name" "$@" \
    > "$EXP/runs/$name.log" 2>&1
}

declare -A RUNS=(
  [cosine]="data.train=$D/train.binpack schedule=cosine_tail"   # nnue-pytorch's defaults
  [flat]="data.train=$D/train.binpack schedule=flat"
  [step]="data.train=$D/train.binpack schedule=step"
  [l2]="data.train=$D/train.binpack schedule=cosine_tail optim.l2=1e-6"
  [nodchip]="data.train=$D/train.binpack schedule=cosine_tail init=nodchip"
  [teacher]="data.train=$D/train-teacher.binpack schedule=cosine_tail"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(cosine flat step l2 nodchip teacher)
for name in "${names[@]}"; do
  # shellcheck disable=SC2086
  run "$name" ${RUNS[$name]} &
done
wait
