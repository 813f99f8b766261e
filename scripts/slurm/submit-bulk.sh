#!/usr/bin/env bash
# Submits a brand's bulk detection as an array of N shards plus a merge that runs after all
# shards succeeded.
#
#   scripts/slurm/submit-bulk.sh N --models REGISTRY --brand BRAND --images PATH --out STORE [detect options]
#
# Prints the two job ids. Set SBATCH_* variables (SBATCH_PARTITION, ...) for the cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: submit-bulk.sh N lunette-detect-options...}
shift
store=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[i]} == --out ]] && store=${args[i + 1]:-}; done
[[ -n $store ]] || { echo "submit-bulk: give --out STORE" >&2; exit 2; }
shards=$(sbatch --parsable --array=1-"$n" "$here/bulk-shard.sbatch" "$@")
merge=$(sbatch --parsable --dependency=afterok:"$shards" "$here/bulk-merge.sbatch" "$store" "$n")
echo "$shards $merge"
