#!/usr/bin/env bash
# Debian's libtorch beside another one (a pip wheel's torch folder, or an unpacked libtorch),
# one run, same machine, 2 threads: Faster R-CNN inference (R50-FPN and X101-32x8d-FPN at
# 800 px, fp32, as inference.sh) and R50-FPN training (as train.sh), each with a lunette built
# against either. The other build goes to .build/libtorch-<version> (LIBTORCH=... swift build).
# Usage: scripts/bench/libtorch.sh TORCH_DIR [reps=5] [train_iterations=21]
#   e.g. unzip -q /opt/wheels/torch-*.whl 'torch/lib/*' 'torch/include/*' -d /tmp/wheel
#        scripts/bench/libtorch.sh /tmp/wheel/torch
set -euo pipefail
cd "$(dirname "$0")/../.."
TORCH_DIR=${1:?usage: libtorch.sh TORCH_DIR [reps] [train_iterations]}
REPS=${2:-5}
ITERS=${3:-21}
TORCH_DIR=$(cd "$TORCH_DIR" && pwd)
VERSION=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$TORCH_DIR"/include/torch/headeronly/version.h "$TORCH_DIR"/include/torch/csrc/api/include/torch/version.h 2>/dev/null | head -3 | paste -sd.)
[[ -n $VERSION ]] || { echo "libtorch.sh: $TORCH_DIR has no include/torch version header: is it a libtorch (a wheel's torch folder)?" >&2; exit 1; }
SYSTEM=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' /usr/include/torch/csrc/api/include/torch/version.h | head -3 | paste -sd.)
source scripts/bench/lunette.sh
OTHER=.build/libtorch-$VERSION
LIBTORCH=$TORCH_DIR swift build -c release --product lunette --scratch-path "$OTHER" >/dev/null
DATA=/usr/share/doc/opencv-doc/examples/data
IMAGE=${IMAGES:-$DATA/messi5.jpg,$DATA/board.jpg}
TRAIN=$(mktemp -d)
OUT=$(mktemp)
trap 'rm -rf "$TRAIN" "$OUT"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$TRAIN" 1 60 20 >/dev/null
echo "libtorch what model image median_s peak_rss_mb"
for pair in "$SYSTEM:$LUNETTE" "$VERSION:$OTHER/release/lunette"; do
  v=${pair%%:*}; bin=${pair#*:}
  OMP_NUM_THREADS=2 "$bin" scripts/bench/inference.lua "$REPS" R_50,X_101_32x8d "$IMAGE" fp32 2>/dev/null | awk -v v="$v" '{ print v, "inference", $1, $2, $3, $4 }' | tee -a "$OUT"
  OMP_NUM_THREADS=2 "$bin" scripts/bench/train.lua "$TRAIN" "$ITERS" R_50 2>/dev/null | awk -v v="$v" '{ print v, "training", $1, "demo", $2, $3 }' | tee -a "$OUT"
done
# Speed-up = Debian's time / the other's (above 1: the other libtorch is faster).
awk -v a="$SYSTEM" -v b="$VERSION" '{ t[$1, $2, $3, $4] = $5; k[$2 SUBSEP $3 SUBSEP $4] = 1 }
     END { for (x in k) { split(x, p, SUBSEP)
             if (((a, p[1], p[2], p[3]) in t) && ((b, p[1], p[2], p[3]) in t))
               printf "libtorch_%s_vs_%s %s %s %s speedup %.2f\n", b, a, p[1], p[2], p[3], t[a, p[1], p[2], p[3]] / t[b, p[1], p[2], p[3]] } }' "$OUT"
