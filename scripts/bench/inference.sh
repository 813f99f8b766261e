#!/usr/bin/env bash
# Faster R-CNN inference beside Detectron2 and torchvision, one run, same machine, 2 threads,
# random weights, SCORE_THRESH_TEST 0 (the worst case), MIN_SIZE_TEST 800 on messi5.jpg and
# board.jpg (IMAGES=a.jpg,b.jpg picks others). Lunette runs at each precision of PRECISIONS
# (default fp32,bf16; one process each, so peak memory is each one's own); the peers run fp32.
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
echo "model image median_s peak_rss_mb precision"
for precision in $(tr , ' ' <<<"${PRECISIONS:-fp32,bf16}"); do
  # A precision not offered on this device (bf16 on the CPU) runs as a trial, to be measured.
  LUNETTE_PRECISION_TRIAL=1 "$LUNETTE" scripts/bench/inference.lua "$REPS" R_50,X_101_32x8d "$IMAGE" "$precision" 2>/dev/null | sed 's/^/lunette_/' | tee -a "$OUT"
done
/usr/bin/python3 scripts/bench/inference_peer.py "$REPS" torchvision "$IMAGE" | tee -a "$OUT"
if [[ -n ${D2_SOURCE:-} ]]; then
  for m in R_50 X_101_32x8d; do
    PYTHONPATH="$D2_SOURCE:${D2_DEPS:-}" /usr/bin/python3 scripts/bench/inference_peer.py "$REPS" "$m" "$IMAGE" "$D2_SOURCE" | tee -a "$OUT"
  done
fi
# Speed-up = peer time / lunette time (above 1 means Lunette is faster); memory = lunette / peer.
# Peers are fp32 (a row without a precision column); each Lunette precision is set beside them,
# and beside Lunette's own fp32.
awk '{ split($1, a, "_"); who = a[1]; model = substr($1, length(who) + 2); p = (NF >= 5) ? $5 : "fp32"
       if (who == "lunette") { who = "lunette@" p; precs[p] = 1 }
       t[who, model, $2] = $3; m[who, model, $2] = $4; seen[model, $2] = 1 }
     END { print "ratio model image speedup peak_rss_ratio"
           for (k in seen) { split(k, km, SUBSEP)
             for (pr in precs) { me = "lunette@" pr; if (!((me, km[1], km[2]) in t)) continue
               tag = (pr == "fp32") ? "lunette" : "lunette_" pr
               for (q = 1; q <= 3; q++) { peer = (q == 1) ? "detectron2" : (q == 2) ? "torchvision" : "lunette@fp32"
                 if (peer == me || !((peer, km[1], km[2]) in t)) continue
                 printf "%s_vs_%s %s %s %.2f %.2f\n", tag, (q == 3) ? "lunette_fp32" : peer, km[1], km[2],
                        t[peer, km[1], km[2]] / t[me, km[1], km[2]], m[me, km[1], km[2]] / m[peer, km[1], km[2]] } } } }' "$OUT"
