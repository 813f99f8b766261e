#!/usr/bin/env bash
# Submits a grid search as a Slurm array plus a collect job that runs after every task succeeded.
#
#   scripts/slurm/submit-grid.sh PLAN.lua DIR [sbatch options for the tasks...]
#
# PLAN.lua calls detectron2.tuning.grid_search{..., output_dir = DIR, run = false}: it plans the
# trials (DIR/search.sqlite and DIR/tasks.json) on this machine and trains nothing. The array
# has one task per training run (`lunette tune tasks DIR`). Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${LUNETTE:=lunette}"
plan=${1:?usage: submit-grid.sh PLAN.lua DIR [sbatch options]}
dir=${2:?usage: submit-grid.sh PLAN.lua DIR [sbatch options]}
shift 2
"$LUNETTE" "$plan"
n=$("$LUNETTE" tune tasks "$dir")
[[ $n -ge 1 ]] || { echo "submit-grid: $dir has no tasks" >&2; exit 1; }
tasks=$(sbatch --parsable --array=0-$((n - 1)) "$@" "$here/grid-task.sbatch" "$dir")
collect=$(sbatch --parsable --dependency=afterok:"$tasks" "$here/grid-collect.sbatch" "$dir")
echo "$tasks $collect"
