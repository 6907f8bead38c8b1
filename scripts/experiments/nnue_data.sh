#!/usr/bin/env bash
# The data experiments of docs/experiments/nnue-strength.md: SFNNv5 nets trained on growing
# prefixes of the committed corpus (data/chess-d6), with search labels, Stockfish 15.1's own net
# as teacher (`nnue relabel`) and a 50/50 blend, each rated by nnue_strength.py (held-out loss
# on the corpus's separate validation file, Spearman rho vs its search scores beside classical
# and Stockfish's own net, Elo vs classical at 1,000 nodes).
#
#   scripts/experiments/nnue_data.sh OUT RUN...
#   RUN: NAME:POSITIONS:LABELS:STEPS, LABELS = search | teacher | blend
#   e.g. scripts/experiments/nnue_data.sh /work/exp p100k:100000:search:600 p400k:400000:teacher:600
#
# Env: CORPUS (data/chess-d6), GAMES (92), THREADS (1), ZF (.venv/bin/zeroforge),
#      PY (.venv/bin/python), TRAIN_ARGS (more `zeroforge train` overrides, space-separated). A prefix is cut at a game boundary from the corpus's shards in
# seed order (each shard's .gensfen.jsonl says where each game ends), so it is a valid .binpack.
# Reruns skip finished steps (a trained run resumes; a finished match is reused).
set -euo pipefail
OUT=$1
shift
CORPUS=${CORPUS:-data/chess-d6}
GAMES=${GAMES:-92}
THREADS=${THREADS:-1}
ZF=${ZF:-.venv/bin/zeroforge}
PY=${PY:-.venv/bin/python}
VAL=$CORPUS/sf15-d6-val.binpack
mkdir -p "$OUT/data"

teacher=$OUT/data/stockfish-15.1.nnue
[ -f "$teacher" ] || printf 'export_net %s\nquit\n' "$(realpath "$OUT")/data/stockfish-15.1.nnue" |
    /usr/games/stockfish >/dev/null

prefix() {  # prefix POSITIONS OUT.binpack: the first games of the shards holding >= POSITIONS
    "$PY" - "$CORPUS" "$1" "$2" <<'EOF'
import json, shutil, sys
from pathlib import Path

from zeroforge.atomic import atomic_write_bytes

corpus, wanted, out = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
shards = sorted(corpus.glob("sf15-d6-s*.binpack"), key=lambda p: int(p.stem.split("-s")[-1]))
parts, have = [], 0
for shard in shards:
    end = 0
    for line in open(f"{shard}.gensfen.jsonl"):
        game = json.loads(line)
        have += game.get("positions", 0)
        end = game["end"]
        if have >= wanted:
            break
    parts.append(shard.read_bytes()[:end])
    if have >= wanted:
        break
if have < wanted:
    sys.exit(f"{corpus}: only {have} positions, {wanted} wanted")
atomic_write_bytes(out, b"".join(parts))
print(f"{out}: {have} positions")
EOF
}

for run in "$@"; do
    IFS=: read -r name positions labels steps <<<"$run"
    data=$OUT/data/prefix-$positions.binpack
    [ -f "$data" ] || prefix "$positions" "$data"
    if [ "$labels" != search ]; then
        blend=1.0
        [ "$labels" = blend ] && blend=0.5
        labelled=$OUT/data/prefix-$positions-$labels.binpack
        [ -f "$labelled" ] || "$ZF" nnue relabel "$data" "$labelled" --net "$teacher" --blend "$blend"
        data=$labelled
    fi
    run_dir=$OUT/runs/$name
    [ -f "$run_dir/nets/final.nnue" ] || "$ZF" train network=sfnnv5 "data.train=$data" \
        "data.val=$VAL" "train.max_steps=$steps" "train.threads=$THREADS" \
        train.val_every=200 train.export_every=200 train.checkpoint_every=200 \
        train.print_every=100 "out_dir=$run_dir" ${TRAIN_ARGS:-}
    "$PY" scripts/experiments/nnue_strength.py run "$run_dir" "$VAL" --games "$GAMES" \
        --match-last "${MATCH_LAST:-1}"
done
