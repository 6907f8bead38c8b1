#!/usr/bin/env bash
# A .nnue net in Stockfish 15.1 against Stockfish 15.1's classical evaluation at equal nodes
# (docs/experiments/nnue-*.md). Usage: scripts/experiments/nnue_match.sh NAME NET.nnue
# Env: EXP (default /work/scratch/nnuexp2), GAMES (92: the 46 lines of the shipped book, each
# with both colours; Stockfish at fixed nodes on one thread repeats a game exactly, so more games
# need --random-plies), NODES (1000), WORKERS (1: one core,
# beside a training run), ZF (the CLI).
# Openings: the shipped book, each line played with both colours; rerunning with more GAMES
# resumes the match; adjudication: a win at
# |score| >= 1000 for 4 plies in a row, a draw at |score| <= 10 for 8 plies after ply 80.
set -euo pipefail
EXP=${EXP:-/work/scratch/nnuexp2}
GAMES=${GAMES:-92}
WORKERS=${WORKERS:-1}
NODES=${NODES:-1000}
ZF=${ZF:-.venv/bin/zeroforge}
name=$1 net=$2
mkdir -p "$EXP/matches"
nice -n 5 "$ZF" match --black "stockfish:evalfile=$net,nodes=$NODES" \
  --white "stockfish:use_nnue=false,nodes=$NODES" --games "$GAMES" --workers "$WORKERS" \
  --resign-score 1000 --resign-plies 4 --draw-score 10 --draw-plies 8 --draw-min-ply 80 \
  --out "$EXP/matches/$name-vs-classical-n$NODES" > "$EXP/matches/$name.log" 2>&1
