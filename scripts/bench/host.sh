#!/usr/bin/env bash
# Host overheads beside lua5.4, on the same machine in the same run:
#   1. start-up: `lunette -e ''` against `lua5.4 -e ''` (best and median of N runs);
#   2. one Lua->Swift call: a loop calling lunette.identity(i) against the same loop calling the
#      C function math.abs(i), in lua5.4 and inside lunette; per-call cost with the empty loop removed.
# Usage: scripts/bench/host.sh [path/to/lunette]   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -n ${1:-} ]]; then LUNETTE=$1; fi
source scripts/bench/lunette.sh
command -v lua5.4 >/dev/null || { echo "lua5.4 is missing: scripts/install-deps installs it" >&2; exit 1; }
RUNS=${RUNS:-15}

startup() {  # prints best and median wall seconds of RUNS runs of "$@"
  local times=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "best %.4f s  median %.4f s", a[1], a[int((NR+1)/2)]}'
}

echo "== start-up ($RUNS runs each)"
echo "lua5.4 -e ''   $(startup lua5.4 -e '')"
echo "lunette -e ''  $(startup "$LUNETTE" -e '')"

N=${CALLS:-20000000}
LOOP='
local N, f, mode = ...
local clock = os.clock
local function run(g)
  local best = math.huge
  for _ = 1, 5 do
    local t = clock()
    if g then for i = 1, N do g(i) end else for i = 1, N do end end
    best = math.min(best, clock() - t)
  end
  return best
end
local empty = run(nil)
local t = run(f)
io.write(string.format("%.1f ns per call (loop %.3f s, empty loop %.3f s)\n", (t - empty) / N * 1e9, t, empty))
'
echo "== one call, $N calls, best of 5"
printf 'lua5.4   C function math.abs:        '; lua5.4 -e "N=$N" -e "local f=load([[$LOOP]]); f($N, math.abs)"
printf 'lunette  C function math.abs:        '; "$LUNETTE" -e "local f=load([[$LOOP]]); f($N, math.abs)"
printf 'lunette  Swift lunette.identity:     '; "$LUNETTE" -e "local f=load([[$LOOP]]); f($N, require('lunette').identity)"
