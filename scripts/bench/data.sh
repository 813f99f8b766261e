#!/usr/bin/env bash
# Data benchmarks beside their peers, same machine, same run:
#  1. loading a COCO JSON of 5,000 images and 36,000 annotations: lunette's load_coco_json
#     against pycocotools' COCO(path) (best of 3, milliseconds);
#  2. decode + resize (Detectron2's test path: short side 800, Pillow bilinear) + CHW tensor, in
#     images per second over the demo dataset: lunette's test loader with NUM_WORKERS 0 and 2,
#     against the same path in Python with Pillow, numpy and torch (Detectron2's own functions
#     re-created; one process, as NUM_WORKERS 0).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lunette.sh
python3 -c 'import pycocotools' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pycocotools >/dev/null 2>&1
/usr/bin/python3 -c 'import PIL, torch, numpy' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pil python3-torch >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/bench/make_big_coco.py "$work/big.json" 5000 36000
echo "COCO JSON: 5,000 images, 36,000 annotations ($(du -h "$work/big.json" | cut -f1)), best of 3"
ours=$("$LUNETTE" scripts/bench/data.lua coco "$work/big.json" 3 | awk '{print $2}')
theirs=$(python3 scripts/bench/data_peer.py coco "$work/big.json" 3 | awk '{print $2}')
printf '  lunette load_coco_json %8.1f ms\n  pycocotools COCO()     %8.1f ms\n  ratio                  %8.3f\n' "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)"

"$LUNETTE" scripts/make_demo_dataset.lua "$work/demo" 1 60 20 >/dev/null
echo "decode + resize to 800 + tensor, demo dataset (60 images of 512x384), images per second"
for w in 0 2; do
  "$LUNETTE" scripts/bench/data.lua images "$w" "$work/demo/annotations/instances_train.json" "$work/demo/train" | awk '{printf "  lunette NUM_WORKERS=%s %8.1f\n", substr($1, length($1)), $2}'
done
/usr/bin/python3 scripts/bench/data_peer.py images "$work"/demo/train/*.jpg | awk '{printf "  python (Detectron2 path) %6.1f\n", $2}'
