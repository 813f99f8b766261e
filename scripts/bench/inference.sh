#!/usr/bin/env bash
# Faster R-CNN inference beside Detectron2 and torchvision, one run, same machine, 2 threads,
# random weights, SCORE_THRESH_TEST 0 (the worst case), MIN_SIZE_TEST 800 on messi5.jpg and
# board.jpg (IMAGES=a.jpg,b.jpg picks others).
# Detectron2 is used when D2_SOURCE points at its source tree (importable with PYTHONPATH set
# to D2_SOURCE plus its pure-Python dependencies in D2_DEPS); build it outside the repository.
# Usage: scripts/bench/inference.sh [reps]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-5}
source scripts/bench/lunette.sh
DATA=/usr/share/doc/opencv-doc/examples/data
# messi5 (as the issue specifies) and board.jpg, a product shot with a brand logo, as a creative.
IMAGE=${IMAGES:-$DATA/messi5.jpg,$DATA/board.jpg}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "model image median_s peak_rss_mb"
"$LUNETTE" scripts/bench/inference.lua "$REPS" R_50,X_101_32x8d "$IMAGE" 2>/dev/null | sed 's/^/lunette_/' | tee -a "$OUT"
/usr/bin/python3 scripts/bench/inference_peer.py "$REPS" torchvision "$IMAGE" | tee -a "$OUT"
if [[ -n ${D2_SOURCE:-} ]]; then
  for m in R_50 X_101_32x8d; do
    PYTHONPATH="$D2_SOURCE:${D2_DEPS:-}" /usr/bin/python3 scripts/bench/inference_peer.py "$REPS" "$m" "$IMAGE" "$D2_SOURCE" | tee -a "$OUT"
  done
fi
# Speed-up = peer time / lunette time (above 1 means Lunette is faster); memory = lunette / peer.
awk '{ split($1, a, "_"); who = a[1]; model = substr($1, length(who) + 2)
       t[who, model, $2] = $3; m[who, model, $2] = $4; seen[model, $2] = 1 }
     END { print "ratio model image speedup peak_rss_ratio"
           for (k in seen) { split(k, km, SUBSEP)
             for (p = 1; p <= 2; p++) { peer = (p == 1) ? "detectron2" : "torchvision"
               if ((peer, km[1], km[2]) in t && ("lunette", km[1], km[2]) in t)
                 printf "lunette_vs_%s %s %s %.2f %.2f\n", peer, km[1], km[2],
                        t[peer, km[1], km[2]] / t["lunette", km[1], km[2]],
                        m["lunette", km[1], km[2]] / m[peer, km[1], km[2]] } } }' "$OUT"
