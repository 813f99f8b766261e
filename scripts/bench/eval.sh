#!/usr/bin/env bash
# COCO evaluation beside pycocotools, one run: 5,000 images, about 35,000 ground-truth boxes and
# 100,000 detections. Lunette's time covers reading both files, evaluating, accumulating and
# summarising; pycocotools' covers evaluate() + accumulate() alone. Prints both AP, AP50 and AR100.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lunette.sh
python3 -c 'import pycocotools' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pycocotools >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/bench/make_eval_case.py "$work/gt.json" "$work/dt.json" 5000 35000 100000
read -r ours ap ap50 ar <<<"$("$LUNETTE" scripts/bench/eval.lua "$work/gt.json" "$work/dt.json" 2>/dev/null)"
read -r theirs pap pap50 par <<<"$(python3 scripts/bench/eval_peer.py "$work/gt.json" "$work/dt.json")"
printf 'lunette (load+evaluate+accumulate) %10.1f ms   AP %s  AP50 %s  AR100 %s\n' "$ours" "$ap" "$ap50" "$ar"
printf 'pycocotools (evaluate+accumulate)  %10.1f ms   AP %s  AP50 %s  AR100 %s\n' "$theirs" "$pap" "$pap50" "$par"
printf 'speed-up %.1fx\n' "$(echo "$theirs / $ours" | bc -l)"
