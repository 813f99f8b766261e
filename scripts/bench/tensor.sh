#!/usr/bin/env bash
# conv2d, matmul, ROIAlign over an FPN pyramid and NMS: lunette beside Python on the same
# libtorch (Debian's python3-torch and python3-torchvision), in one run, same thread count.
# Reports best-of-N milliseconds and the ratio lunette / Python (below 1: lunette is faster).
# Usage: scripts/bench/tensor.sh [reps] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-5}
THREADS=${2:-$(nproc)}
source scripts/bench/lunette.sh
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  echo "installing the peer: python3-torch python3-torchvision" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null
fi
ours=$(mktemp); theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT
# Interleave the two so that both see the same machine load.
"$LUNETTE" scripts/bench/tensor_ops.lua "$REPS" "$THREADS" >"$ours"
/usr/bin/python3 scripts/bench/tensor_ops.py "$REPS" "$THREADS" >"$theirs"
echo "threads: $THREADS, best of $REPS (ms)"
printf '%-10s %12s %12s %8s\n' op lunette python ratio
join "$ours" "$theirs" | awk '{ printf "%-10s %12.2f %12.2f %8.3f\n", $1, $2, $3, $2 / $3 }'
