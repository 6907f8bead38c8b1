#!/usr/bin/env bash
# The training runs of docs/experiments/nnue-speed.md: the dense and the lazy (row-sparse)
# Ranger update of the transformer, and larger batches, at EQUAL POSITIONS SEEN (POSITIONS,
# validation every VAL_POSITIONS), ONE AT A TIME, one thread each (train.threads=1), under nice.
# Usage: scripts/experiments/nnue_speed.sh RUN... (names below, each optionally -sN for seed N
# instead of 1: `lazy-s2`; default: every run with seed 1)
# Env: EXP (outputs, default /work/scratch/nnuestep/exp), DATA (default
# /work/scratch/nnuestep/data/d6s2.binpack, made as nnue-speed.md says), POSITIONS (196608),
# VAL_POSITIONS (32768), ZF (the CLI). Validation: every held-out position
# (data.val_fraction=0.05, all batches).
set -euo pipefail
EXP=${EXP:-/work/scratch/nnuestep/exp}
DATA=${DATA:-/work/scratch/nnuestep/data/d6s2.binpack}
POSITIONS=${POSITIONS:-196608}  # 192 steps of 1,024
VAL_POSITIONS=${VAL_POSITIONS:-32768}
ZF=${ZF:-.venv/bin/zeroforge}

run() {  # NAME BATCH OVERRIDES...
  local name=$1 batch=$2; shift 2
  mkdir -p "$EXP/runs"
  nice -n 5 "$ZF" train network=sfnnv5 "data.train=$DATA" data.val_fraction=0.05 \
    data.val_batches=1000 "data.batch_size=$batch" data.workers=0 train.threads=1 \
    "train.max_steps=$((POSITIONS / batch))" "train.val_every=$((VAL_POSITIONS / batch))" \
    train.log_every=1 train.checkpoint_every=0 train.export_every=0 train.progress=none \
    out_dir="$EXP/runs/$name" "$@" > "$EXP/runs/$name.log" 2>&1
}

declare -A RUNS=(  # BATCH OVERRIDES (fp32 unless said, whatever `auto` picks on the CPU)
  [dense]="1024 optim.lazy_rows=false"  # the update as it was: every transformer row, every step
  [lazy]="1024 optim.lazy_rows=true"
  [lazy-bf16]="1024 optim.lazy_rows=true train.precision=bf16-mixed"
  [lazy-b4096]="4096 optim.lazy_rows=true"  # the same learning rate
  [lazy-b4096-lr2]="4096 optim.lazy_rows=true optim.lr=1.75e-3"  # lr x sqrt(4)
  [lazy-b16384-lr4]="16384 optim.lazy_rows=true optim.lr=3.5e-3"  # lr x sqrt(16)
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(dense lazy dense-s2 lazy-s2 lazy-bf16 lazy-b4096 lazy-b4096-lr2)
for name in "${names[@]}"; do
  base=${name%-s[0-9]*} seed=1
  [ "$base" = "$name" ] || seed=${name##*-s}
  overrides=${RUNS[$base]}
  [[ $overrides == *train.precision=* ]] || overrides="$overrides train.precision=32"
  # shellcheck disable=SC2086
  run "$name" $overrides seed=$seed
done
