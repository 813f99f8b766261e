#!/usr/bin/env bash
# Memory stays flat over a long bulk job: 10,000 creatives (links to the demo creatives, each a
# path of its own) through one small model in batches of 200; resident memory after the first
# batch and at the end, and their ratio (the target: within 10%).
# Usage: scripts/bench/bulk_memory.sh [creatives=10000]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
source scripts/bench/lunette.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$WORK/data" 1 4 12 >/dev/null 2>&1
mkdir -p "$WORK/creatives"
sources=("$WORK"/data/val/*.jpg)
for ((i = 0; i < N; i++)); do ln -s "${sources[i % ${#sources[@]}]}" "$WORK/creatives/c$i.jpg"; done
read -r first end done seconds < <(OMP_NUM_THREADS=2 "$LUNETTE" scripts/bench/bulk_memory.lua "$WORK/creatives" "$WORK/store.sqlite" 2>"$WORK/err") || { tail -5 "$WORK/err" >&2; exit 1; }
awk -v f="$first" -v e="$end" -v n="$done" -v s="$seconds" \
  'BEGIN { printf "%d creatives in %.0f s: RSS %.0f MB after the first batch, %.0f MB at the end (ratio %.3f)\n", n, s, f, e, e / f }'
