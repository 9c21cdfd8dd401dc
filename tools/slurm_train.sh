#!/usr/bin/env bash
# Training on a Slurm cluster, as MMPose's tools/slurm_train.sh, with
# MMPose's own tools/train.py from the installed mmpose package.
#
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [GPUS]
#                        [train.py arguments ...]
#
# GPUS (default 8, or the GPUS environment variable) tasks, one per GPU.
# Environment: GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (''),
# PYTHON (python, else python3).
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [GPUS]" \
         "[train.py arguments ...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    GPUS=$1
    shift
fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-$(command -v python || command -v python3 || echo python3)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$GPUS" -lt 1 ]; then
    echo "$0: GPUS must be at least 1, got '$GPUS'" >&2
    exit 2
fi
if [ "$GPUS" -lt "$GPUS_PER_NODE" ]; then
    GPUS_PER_NODE=$GPUS  # one node, as many GPUs as tasks
fi
if [ ! -f "$CONFIG" ]; then
    echo "$0: config file '$CONFIG' does not exist" >&2
    exit 2
fi

TRAIN=$("$PYTHON" -c 'import os.path as o, mmpose; print(o.join(o.dirname(mmpose.__file__), ".mim", "tools", "train.py"))') || {
    echo "$0: mmpose is not importable by $PYTHON: install the project's" \
         "environment (tools/setup_env.sh) or set PYTHON" >&2
    exit 2
}

set -x
# shellcheck disable=SC2086  (SRUN_ARGS holds several arguments)
PYTHONPATH="$ROOT/projects:$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TRAIN" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "$@"
