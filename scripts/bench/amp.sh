#!/usr/bin/env bash
# Mixed-precision training (SOLVER.AMP.ENABLED) against fp32 on the demo creatives: the loss
# curve beside fp32's noise band over seeds, and seconds per iteration of each (2 threads).
# Usage: scripts/bench/amp.sh [iterations=100] [seeds=1,2,3] [model=demo | R_50 | X_101_32x8d]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS=${1:-100}
SEEDS=${2:-1,2,3}
MODEL=${3:-demo}
source scripts/bench/lunette.sh
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$DATA" 1 60 20 >/dev/null
OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/amp.lua "$DATA" "$ITERS" "$SEEDS" "$MODEL" 2>/dev/null
