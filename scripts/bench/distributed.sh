#!/usr/bin/env bash
# Data-parallel training beside one process, same machine, same run: R50-FPN (or X101) at a
# global batch of 2 images, 1 process x 2 threads against 2 processes (lunette --launch 2,
# gloo) x 1 thread each, and the gradient volume one iteration all-reduces. On a 2-core machine
# this measures the cost of the collectives, not a speed-up: both use the same two cores.
# Usage: scripts/bench/distributed.sh [iterations=31] [model=R_50 | X_101_32x8d]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS=${1:-31}
MODEL=${2:-R_50}
source scripts/bench/lunette.sh
DATA=$(mktemp -d)
OUT=$(mktemp)
trap 'rm -rf "$DATA" "$OUT"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$DATA" 1 60 20 >/dev/null
echo "who median_s_per_iter images_per_s gradient_mib_per_iter"
OMP_NUM_THREADS=2 BENCH_OUT="$DATA/one" "$LUNETTE" scripts/bench/distributed.lua "$DATA" "$ITERS" "$MODEL" 2>/dev/null | tee -a "$OUT"
OMP_NUM_THREADS=1 BENCH_OUT="$DATA/two" "$LUNETTE" --launch 2 scripts/bench/distributed.lua "$DATA" "$ITERS" "$MODEL" 2>/dev/null | tee -a "$OUT"
# Throughput ratio = 2 processes' images/s / 1 process's (below 1: the collectives cost more than
# the second process gains on these cores).
awk '{ r[NR] = $3 } END { if (NR == 2) printf "two_processes_vs_one throughput_ratio %.2f\n", r[2] / r[1] }' "$OUT"
