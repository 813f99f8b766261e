#!/usr/bin/env bash
# Bulk detection beside the study's way in Detectron2, one run, same machine, 2 threads: five
# R50-FPN models that share a frozen stem and res2 (the same weight files for both) over the same
# creatives at MIN_SIZE_TEST 800. Lunette's detect_batch (decoding ahead on worker threads, one
# resize per image, the shared prefix computed once) against, for each model, Detectron2's
# DefaultPredictor over the creatives with cv2.imread and results saved as JSON after every 200.
# Needs Detectron2 (D2_SOURCE, with D2_DEPS, built outside the repository).
# Usage: scripts/bench/bulk.sh [creatives=8]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-8}
source scripts/bench/lunette.sh
[[ -n ${D2_SOURCE:-} ]] || { echo "bulk.sh: set D2_SOURCE (and D2_DEPS) to a Detectron2 source tree" >&2; exit 2; }
export PYTHONPATH="$D2_SOURCE:${D2_DEPS:-}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATA=/usr/share/doc/opencv-doc/examples/data
# Creatives of several sizes (product shots, people, scenes), N of them in a list file.
for name in messi5 board fruits baboon building apple aero3 home butterfly orange HappyFish Blender_Suzanne1 leuvenA licenseplate_motion; do
  [[ -f $DATA/$name.jpg ]] && echo "$DATA/$name.jpg"
done | head -n "$N" >"$WORK/list.txt"
/usr/bin/python3 scripts/bench/bulk_peer.py make "$WORK"
OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/bulk.lua "$WORK" "$WORK/list.txt" 2>"$WORK/lunette.err" | tee "$WORK/out"
OMP_NUM_THREADS=2 /usr/bin/python3 scripts/bench/bulk_peer.py run "$WORK" "$WORK/list.txt" 2>/dev/null | tee -a "$WORK/out"
grep -E "memory|sharing" "$WORK/lunette.err" || true
# creatives x models per second for both, the ratio, and peak memory.
awk '{ rate[$1] = $2 * $3 / $4; rss[$1] = $5; det[$1] = $6 }
     END { printf "lunette %.3f creatives×models/s, detectron2 %.3f: ratio %.2f; peak RSS %d MB against %d MB; detections %d and %d\n",
                  rate["lunette"], rate["detectron2"], rate["lunette"] / rate["detectron2"], rss["lunette"], rss["detectron2"], det["lunette"], det["detectron2"] }' "$WORK/out"
