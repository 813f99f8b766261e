#!/usr/bin/env bash
# Training speed beside Detectron2, one run, same machine, data and libtorch, 2 threads:
# seconds per iteration of R50-FPN at IMS_PER_BATCH 2 on the demo creatives (512x384), median
# over iterations 10-30, and peak memory. Detectron2 runs when D2_SOURCE points at its source
# tree (importable with PYTHONPATH = D2_SOURCE plus its pure-Python dependencies in D2_DEPS).
# Usage: scripts/bench/train.sh [iterations=31] [model=R_50 | X_101_32x8d]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS=${1:-31}
MODEL=${2:-R_50}
source scripts/bench/lunette.sh
DATA=$(mktemp -d)
OUT=$(mktemp)
trap 'rm -rf "$DATA" "$OUT"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$DATA" 1 60 20 >/dev/null
echo "who median_s_per_iter peak_rss_mb"
OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/train.lua "$DATA" "$ITERS" "$MODEL" 2>/dev/null | tee -a "$OUT"
if [[ -n ${D2_SOURCE:-} ]]; then
  OMP_NUM_THREADS=2 PYTHONPATH="$D2_SOURCE:${D2_DEPS:-}" /usr/bin/python3 scripts/bench/train_peer.py "$DATA" "$ITERS" "$MODEL" 2>/dev/null | tee -a "$OUT"
fi
# Speed-up = Detectron2's s/iter / Lunette's (above 1: Lunette is faster); memory = Lunette / Detectron2.
awk -v model="$MODEL" '{ t[$1] = $2; m[$1] = $3 }
     END { l = "lunette_" model; d = "detectron2_" model
           if ((d in t) && (l in t)) printf "lunette_vs_detectron2 %s speedup %.2f peak_rss_ratio %.2f\n", model, t[d] / t[l], m[l] / m[d] }' "$OUT"
