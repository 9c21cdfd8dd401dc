#!/usr/bin/env bash
# Distributed training on one machine (or several: NNODES, NODE_RANK,
# MASTER_ADDR), as MMPose's tools/dist_train.sh, with torchrun and
# MMPose's own tools/train.py from the installed mmpose package.
#
#   tools/dist_train.sh CONFIG GPUS [train.py arguments ...]
#   e.g. tools/dist_train.sh CONFIG 8 --amp --cfg-options optim_wrapper.dtype=bfloat16
#
# GPUS processes are started, one per GPU; on a machine without CUDA they
# train on the CPU over gloo (the project's configs switch MMEngine's
# torchrun set-up to it). Environment: NNODES (1), NODE_RANK (0), PORT
# (29500), MASTER_ADDR (127.0.0.1), PYTHON (python, else python3).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py arguments ...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
if ! [[ $GPUS =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: GPUS must be a positive number of processes, got '$GPUS'" >&2
    exit 2
fi
if [ ! -f "$CONFIG" ]; then
    echo "$0: config file '$CONFIG' does not exist" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-$(command -v python || command -v python3 || echo python3)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

TRAIN=$("$PYTHON" -c 'import os.path as o, mmpose; print(o.join(o.dirname(mmpose.__file__), ".mim", "tools", "train.py"))') || {
    echo "$0: mmpose is not importable by $PYTHON: install the project's" \
         "environment (tools/setup_env.sh) or set PYTHON" >&2
    exit 2
}

PYTHONPATH="$ROOT/projects:$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TRAIN" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
