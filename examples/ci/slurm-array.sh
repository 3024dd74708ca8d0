#!/bin/bash
# Mutation tests as a Slurm job array: array task i runs shard i. Submit the
# array and a merge that waits for it with
#
#   examples/ci/slurm-array.sh submit
#
# Each shard's state directory is on the shared file system, so a task that
# hit its time limit or was preempted (--requeue) resumes where it stopped.
# The array must be one range (0-3, or 1-4: mutcell subtracts
# SLURM_ARRAY_TASK_MIN); its size is the shard count.
#SBATCH --job-name=mutcell
#SBATCH --array=0-3
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=mutcell-%A_%a.out
set -euo pipefail

STATE_ROOT=${STATE_ROOT:-$PWD/mutcell-state}
PLAN=${PLAN:-mutants.jsonl}
MUTCELL=${MUTCELL:-mutcell}

case "${1:-shard}" in
  submit)
    array=$(sbatch --parsable "$0" shard)
    # --wrap: the merge must not inherit this script's #SBATCH --array.
    sbatch --parsable --dependency="afterany:${array}" --job-name=mutcell-merge \
      --output=mutcell-merge-%j.out --export=ALL --wrap="'$(realpath "$0")' merge"
    ;;
  shard)
    # --signal=B:TERM@120 sends SIGTERM to this shell two minutes before the
    # time limit; exec makes mutcell that process, so it stops cleanly,
    # flushes its journal and exits 143 (the requeued task resumes).
    mkdir -p "$STATE_ROOT"
    exec "$MUTCELL" run --plan "$PLAN" --state-dir "$STATE_ROOT/shard-${SLURM_ARRAY_TASK_ID}" \
      --shard auto --jobs "${SLURM_CPUS_PER_TASK:-1}"
    ;;
  merge)
    "$MUTCELL" merge --out "$STATE_ROOT/merged" "$STATE_ROOT"/shard-*
    "$MUTCELL" report --state-dir "$STATE_ROOT/merged" --html "$STATE_ROOT/mutation-report.html" > /dev/null
    exec "$MUTCELL" report --state-dir "$STATE_ROOT/merged" --require-complete
    ;;
  *)
    echo "usage: $0 [submit|shard|merge]" >&2
    exit 2
    ;;
esac
