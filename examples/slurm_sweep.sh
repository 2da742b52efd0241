#!/bin/bash
# A sweep as a SLURM job array: each array task trains its shard of the runs.
#
#     sbatch examples/slurm_sweep.sh                     # 8 tasks, one GPU each
#     sbatch --array=0-3 examples/slurm_sweep.sh         # 4 tasks: set SHARDS=4 too (below, or --export)
#
# Every task runs the same `python -m constrained_zoo.training.sweep` with `--shard $SLURM_ARRAY_TASK_ID/$SHARDS`
# into one folder on a file system all nodes share. One task per shard needs no lock
# across nodes; a second submission of the array beside the first relies on the run
# locks (RUN/.lock, flock) holding across nodes (docs/scaling.md). A requeued task
# trains nothing twice: finished runs are skipped, interrupted ones resume
# from their last epoch, and a task that finishes its shard waits for the runs other
# tasks hold, taking over any that a dead task left. SLURM sends SIGTERM before it
# kills a task (time limit, preemption): the run stops at its last checkpoint.
# When every task is done: python -m constrained_zoo.training.report "$OUT" --budgets 10000,60000,250000
#
#SBATCH --job-name=zoo-sweep
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=logs/zoo-sweep-%A_%a.out

set -euo pipefail
SHARDS=${SHARDS:-8}                 # must equal the number of array tasks
OUT=${OUT:-results/fashion_mnist}   # on the shared file system
cd "${SLURM_SUBMIT_DIR:-.}"
source .venv/bin/activate           # `make setup` made it (Python >= 3.11)

exec python -m constrained_zoo.training.sweep \
    --dataset fashion_mnist --models "*" --epochs 20 --seeds 2 \
    --mixed-precision mixed_bfloat16 --jit-compile auto --steps-per-execution 8 \
    --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
    --out "$OUT" "$@"                 # extra arguments override, e.g. --dry-run
