#!/usr/bin/env bash
# Kill campaign: long work is killed with SIGKILL at random moments (checkpoint writes, renames,
# metrics writes included, by chance) and resumed; after every kill each checkpoint must load,
# metrics.json must have no broken line but a last one cut short, and the next leg must resume
# right after the newest complete checkpoint. At the end the run is finished and its artefacts
# checked (model_final.pth and .safetensors, no temporary files left).
# Usage: scripts/reliability/kill.sh train N [max_iter=40]   (LUNETTE= picks the binary)
#        scripts/reliability/kill.sh tune N
# tune: a 2 x 2 grid search (two shared runs) killed at random moments (training, evaluation,
# store writes) and rerun: no trial finished before a kill is finished again (its finished time
# stands), and the store at the end equals an uninterrupted search's: the same metrics,
# byte-identical predictions, bit-identical weights.
# detect: bulk detection (two tiny models sharing a stem, images, a video, a corrupt file, in
# batches of 2) killed at random moments and rerun: after every kill the store is consistent
# (no detection twice, none orphaned), and at the end it holds exactly an uninterrupted run's
# detections and creatives (no gaps).
# Ends with one line: "kill campaign KIND: N trials, F failures".
set -uo pipefail
cd "$(dirname "$0")/../.."
KIND=${1:-train}
N=${2:-10}
MAX_ITER=${3:-40}
[[ $KIND == train || $KIND == tune || $KIND == detect ]] || { echo "kill.sh: the kinds are train, tune and detect" >&2; exit 2; }
if [[ -z ${LUNETTE:-} ]]; then
  source scripts/bench/lunette.sh
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$LUNETTE" scripts/make_demo_dataset.lua "$WORK/data" 3 8 2 >/dev/null 2>&1 || { echo "kill.sh: could not make the demo dataset" >&2; exit 1; }
OUT="$WORK/run"
trials=0 failures=0 expected="" landed=0
fail() { failures=$((failures + 1)); echo "FAIL (trial $trials): $*" >&2; }
# One leg of a campaign: SCRIPT ARGS... in the background, killed with SIGKILL after a random
# MIN + [0, SPAN) seconds if still running. Sets killed=1 (trials counted) or killed=0 (it ended
# by itself: its status in leg_status, its output in leg.out / leg.err).
kill_leg() {
  local min=$1 span=$2; shift 2
  "$LUNETTE" "$@" >"$WORK/leg.out" 2>"$WORK/leg.err" &
  local pid=$!
  sleep "$(awk -v r=$RANDOM -v a="$min" -v b="$span" 'BEGIN { printf "%.2f", a + (r % (b * 1000)) / 1000 }')"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    trials=$((trials + 1)); killed=1
  else
    wait "$pid"; leg_status=$?; killed=0
  fi
}

if [[ $KIND == detect ]]; then
  D="$WORK/data"; mkdir -p "$D/creatives"
  cp "$D"/train/*.jpg "$D"/val/*.jpg "$D/creatives/" 2>/dev/null
  cp /usr/share/doc/opencv-doc/examples/data/tree.avi "$D/creatives/"
  head -c 3000 /usr/share/doc/opencv-doc/examples/data/apple.jpg >"$D/creatives/truncated.jpg"
  "$LUNETTE" scripts/reliability/detect_once.lua "$D" "$WORK/reference.sqlite" >"$WORK/ref.out" 2>"$WORK/ref.err" \
    || { echo "kill.sh: the uninterrupted run failed: $(tail -n 3 "$WORK/ref.err")" >&2; exit 1; }
  while ((trials < N)); do
    kill_leg 0.4 2.6 scripts/reliability/detect_once.lua "$D" "$OUT.sqlite"
    if ((killed == 0)); then
      ((leg_status == 0)) || { fail "a leg failed by itself: $(tail -n 3 "$WORK/leg.err")"; break; }
      # Finished before the kill: check it against the reference and start over.
      same=$("$LUNETTE" scripts/reliability/detect_check.lua "$OUT.sqlite" "$WORK/reference.sqlite" 2>"$WORK/check.err") || fail "$(tail -n 3 "$WORK/check.err")"
      rm -f "$OUT".sqlite*
    fi
    if [[ -f $OUT.sqlite ]]; then
      state=$("$LUNETTE" scripts/reliability/detect_check.lua "$OUT.sqlite" 2>"$WORK/check.err") || fail "after the kill: $(tail -n 3 "$WORK/check.err")"
      # A kill that found creatives saved (a store mid-job, not one still starting).
      [[ ${state:-} == "consistent 0" || $killed == 0 ]] || landed=$((landed + 1))
    fi
  done
  ((landed * 4 >= N)) || fail "only $landed of $N kills came after a batch was saved (the legs are too short to test)"
  "$LUNETTE" scripts/reliability/detect_once.lua "$D" "$OUT.sqlite" >"$WORK/leg.out" 2>"$WORK/leg.err" || fail "the final leg failed: $(tail -n 3 "$WORK/leg.err")"
  same=$("$LUNETTE" scripts/reliability/detect_check.lua "$OUT.sqlite" "$WORK/reference.sqlite" 2>"$WORK/check.err") || fail "against the uninterrupted run: $(tail -n 3 "$WORK/check.err")"
  [[ ${same:-} == same* ]] || fail "expected 'same N', got '${same:-}'"
  grep -q "failed 1" "$WORK/leg.out" || fail "the truncated file is not recorded as failed: $(cat "$WORK/leg.out")"
  echo "kill campaign $KIND: $trials trials, $failures failures"
  ((failures == 0))
  exit
fi

if [[ $KIND == tune ]]; then
  REF="$WORK/reference"
  "$LUNETTE" scripts/reliability/tune_once.lua "$WORK/data" "$REF" >"$WORK/ref.out" 2>"$WORK/ref.err" \
    || { echo "kill.sh: the uninterrupted search failed: $(tail -n 3 "$WORK/ref.err")" >&2; exit 1; }
  : >"$WORK/finished.before"
  while ((trials < N)); do
    kill_leg 0.3 11 scripts/reliability/tune_once.lua "$WORK/data" "$OUT"
    if ((killed == 0 && leg_status != 0)); then fail "a leg failed by itself: $(tail -n 3 "$WORK/leg.err")"; break; fi
    if [[ -f $OUT/search.sqlite ]]; then
      "$LUNETTE" scripts/reliability/tune_check.lua "$OUT" >"$WORK/finished.now" 2>"$WORK/check.err" || fail "after the kill: $(tail -n 3 "$WORK/check.err")"
      missing=$(comm -23 <(sort "$WORK/finished.before") <(sort "$WORK/finished.now"))
      [[ -z $missing ]] || fail "finished trials were finished again (or lost): $missing"
      cp "$WORK/finished.now" "$WORK/finished.before"
    fi
    # A leg that finished the whole grid before its kill: check it, then start another search,
    # so the campaign makes its N kills.
    if grep -q "^finished 4" "$WORK/leg.out" 2>/dev/null; then
      same=$("$LUNETTE" scripts/reliability/tune_check.lua "$OUT" "$REF" 2>"$WORK/check.err") || fail "against the uninterrupted search: $(tail -n 3 "$WORK/check.err")"
      [[ ${same:-} == "same 4" ]] || fail "expected 'same 4', got '${same:-}'"
      rm -rf "$OUT"; : >"$WORK/finished.before"
    fi
  done
  "$LUNETTE" scripts/reliability/tune_once.lua "$WORK/data" "$OUT" >"$WORK/leg.out" 2>"$WORK/leg.err" || fail "the final leg failed: $(tail -n 3 "$WORK/leg.err")"
  grep -q "^finished 4" "$WORK/leg.out" || fail "the final leg did not finish the grid: $(cat "$WORK/leg.out")"
  if grep -q "Starting training" "$WORK/leg.err" && [[ $(wc -l <"$WORK/finished.before") -eq 4 ]]; then fail "the final leg trained a finished search"; fi
  "$LUNETTE" scripts/reliability/tune_check.lua "$OUT" >"$WORK/finished.now" 2>/dev/null
  missing=$(comm -23 <(sort "$WORK/finished.before") <(sort "$WORK/finished.now"))
  [[ -z $missing ]] || fail "finished trials were finished again (or lost): $missing"
  same=$("$LUNETTE" scripts/reliability/tune_check.lua "$OUT" "$REF" 2>"$WORK/check.err") || fail "against the uninterrupted search: $(tail -n 3 "$WORK/check.err")"
  [[ ${same:-} == "same 4" ]] || fail "expected 'same 4', got '${same:-}'"
  if find "$OUT" -name '*.tmp-*' | grep -q .; then fail "temporary files left: $(find "$OUT" -name '*.tmp-*')"; fi
  echo "kill campaign $KIND: $trials trials, $failures failures"
  ((failures == 0))
  exit
fi

leg() {  # starts a leg in the background; its stdout goes to $WORK/leg.out
  "$LUNETTE" scripts/reliability/train_once.lua "$WORK/data" "$OUT" "$MAX_ITER" >"$WORK/leg.out" 2>"$WORK/leg.err" &
  pid=$!
}

check_start() {  # the leg's first line against what the last kill left
  local first
  for _ in $(seq 1 600); do first=$(head -n 1 "$WORK/leg.out" 2>/dev/null); [[ -n $first ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if [[ -n $expected && -n $first && $first != "$expected"* ]]; then fail "expected '$expected…', the leg began '$first'"; fi
}

while ((trials < N)); do
  leg
  check_start
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.05 + (r % 3000) / 1000 }')"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    trials=$((trials + 1))
    if ! newest=$("$LUNETTE" scripts/reliability/check_run.lua "$OUT" 2>"$WORK/check.err"); then
      fail "after the kill: $(tail -n 3 "$WORK/check.err")"; expected=""; continue
    fi
    case $newest in
      "newest -1") expected="fresh 0" ;;
      "newest final") expected="resumed $OUT/model_final.pth $MAX_ITER" ;;
      *) k=${newest#newest }; expected="resumed $OUT/$(printf 'model_%07d.pth' "$k") $((k + 1))" ;;
    esac
  else
    wait "$pid"; status=$?
    if ((status != 0)); then fail "a leg failed by itself (status $status): $(tail -n 3 "$WORK/leg.err")"; break; fi
    if grep -q "^finished" "$WORK/leg.out"; then rm -rf "$OUT"; expected="fresh 0"; fi   # a whole run: start another
  fi
done
# Finish the run and check what a finished run leaves.
leg; check_start; wait "$pid"; status=$?
((status == 0)) && grep -q "^finished $MAX_ITER" "$WORK/leg.out" || fail "the final leg did not finish: $(tail -n 3 "$WORK/leg.err")"
# metrics.json too, unless the last kill fell between the final checkpoint and the final
# metrics line of a run that had written none before (its metrics were only in memory, as in
# Detectron2); the final leg then had nothing left to train.
artefacts="model_final.pth model_final.safetensors last_checkpoint"
head -n 1 "$WORK/leg.out" | grep -q "^resumed $OUT/model_final.pth" || artefacts="$artefacts metrics.json"
for f in $artefacts; do [[ -s "$OUT/$f" ]] || fail "the finished run has no $f"; done
if ls "$OUT" | grep -q '\.tmp-'; then fail "temporary files left: $(ls "$OUT" | grep '\.tmp-' | tr '\n' ' ')"; fi
"$LUNETTE" scripts/reliability/check_run.lua "$OUT" >/dev/null 2>"$WORK/check.err" || fail "the finished run: $(tail -n 3 "$WORK/check.err")"
echo "kill campaign $KIND: $trials trials, $failures failures"
((failures == 0))
