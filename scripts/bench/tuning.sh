#!/usr/bin/env bash
# The grid search's saving, measured: the study's 3 x 3 grid (MAX_ITER {300, 500, 1000} x
# BATCH_SIZE_PER_IMAGE {256, 512, 1024}, scaled by SCALE) at a tiny config on the demo creatives,
# as one search (trials differing only in MAX_ITER share a run) and as nine independent
# searches, same machine, same run. Reports iterations trained and wall time of each and their
# ratios, and checks that every trial's accuracy and AP are the same both ways (the shared
# prefix is exact). Usage: scripts/bench/tuning.sh [scale=0.1]   (1 is the study's iterations)
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE=${1:-0.1}
source scripts/bench/lunette.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$WORK/data" 1 60 20 >/dev/null
OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/tuning.lua "$WORK/data" "$WORK/out" shared "$SCALE" 2>"$WORK/shared.err" >"$WORK/shared.out" \
  || { tail -n 5 "$WORK/shared.err" >&2; exit 1; }
OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/tuning.lua "$WORK/data" "$WORK/out" independent "$SCALE" 2>"$WORK/independent.err" >"$WORK/independent.out" \
  || { tail -n 5 "$WORK/independent.err" >&2; exit 1; }
grep -v '^trial' "$WORK/shared.out"
grep -v '^trial' "$WORK/independent.out"
if diff <(grep '^trial' "$WORK/shared.out") <(grep '^trial' "$WORK/independent.out") >/dev/null; then
  echo "trials identical both ways: yes ($(grep -c '^trial' "$WORK/shared.out") trials)"
else
  echo "trials identical both ways: NO"; diff <(grep '^trial' "$WORK/shared.out") <(grep '^trial' "$WORK/independent.out") || true
fi
awk '$2 == "iterations" { it[$1] = $3; s[$1] = $5 }
     END { printf "shared_vs_independent iterations_ratio %.3f wall_ratio %.3f\n", it["shared"] / it["independent"], s["shared"] / s["independent"] }' \
  "$WORK/shared.out" "$WORK/independent.out"
