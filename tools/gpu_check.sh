#!/usr/bin/env bash
# The project's GPU checks in one run of at most 10 minutes, for the GPU
# machine of ../shared/gpu/README.md (one GPU, no network, MMPose from the
# carried wheels). Each step runs under `timeout`, writes its table to $OUT
# as soon as it ends, and a failed step does not stop the others; a short
# summary is printed last (and written to $OUT/summary.md).
#
#   On the GPU machine, from the project root (.gpu carried along):
#     source .gpu/on_device.sh .gpu && OUT=$OUT bash tools/gpu_check.sh
#   Here, to check the plumbing on the CPU at toy sizes:
#     DEVICE=cpu PYTHON=.venv/bin/python OUT=/tmp/gpu_check_out \
#         bash tools/gpu_check.sh
#
# Steps:
#   1. synthetic COCO-format data (tools/generate_synthetic_coco.py);
#   2. the demo student distilled end to end by MMPose's tools/train.py in
#      BF16 AMP (AmpOptimWrapper dtype=bfloat16, BF16 teacher), then its
#      test with MMPose's tools/test.py in BF16 (test_cfg.precision=bf16);
#   3. tools/benchmark.py --device cuda: latency at batch 1 and images/s
#      at batch 256, fp32 / BF16 / fp16, for the catalogue models;
#   4. tools/train_throughput.py --device cuda: the DistilPose-S
#      distillation step (HRNet-W48 TokenPose teacher, random weights) at
#      batch 256 in fp32, BF16 and BF16 + channels_last, with the teacher
#      forward, the student alone, the loader and peak memory;
#   5. the tests marked `cuda` (needs pytest on the machine: before the
#      run, here: .venv/bin/python -m pip download -q --no-deps
#      -d .gpu/wheels pytest pluggy iniconfig packaging).
#
# Files in $OUT (at most 8, as the machine returns them): summary.md,
# env.txt, train.log, pytest.txt, benchmark_cuda.md, benchmark_cuda.json,
# throughput.md.
# Environment: OUT (required), DEVICE (cuda; cpu for the plumbing check),
# PYTHON (python3), WORK (/tmp/gpu_check: data and work dirs, not
# returned), WORKERS (dataloader workers, 8 on the GPU), DEADLINE (seconds
# for all steps, 510 on the GPU: a step that would pass it is cut short or
# skipped, so the summary is written within a 10-minute command).
set -uo pipefail

: "${OUT:?set OUT to the folder for the results}"
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/gpu_check}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
# Runs from $WORK, where the demo configs' relative paths resolve:
# data/synthcoco/ (generated) and model_zoo/ (the project's).
cd "$WORK" || exit 2
ln -sfn "$ROOT/model_zoo" model_zoo
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export PYTHONPATH="$ROOT/projects${PYTHONPATH:+:$PYTHONPATH}"

if [ "$DEVICE" = cuda ]; then
    WORKERS=${WORKERS:-8}
    TRAIN_IMAGES=600 VAL_IMAGES=60 IMAGE_SIZE="256 256"
    EPOCHS=3 TRAIN_BATCH=64
    AMP=(optim_wrapper.type=AmpOptimWrapper optim_wrapper.dtype=bfloat16)
    BENCH=(--device cuda --batch 256 --warmup 3 --reps 10)
    TP=(--device cuda --batch 256 --iters 6 --warmup 2)
    TP_CONFIG=$ROOT/configs/distilpose/coco/distilpose-s_stemnet_8xb32-300e_coco-256x192.py
    TP_VARIANTS=("fp32|" "bf16|--amp bf16 --cfg-options model.teacher_precision=bf16"
                 "bf16 + channels_last|--amp bf16 --channels-last --cfg-options model.teacher_precision=bf16")
    T_TRAIN=150 T_TEST=60 T_PYTEST=150 T_BENCH=180 T_TP=100
    TRAIN_LABEL="BF16 AMP, BF16 teacher"
    DEADLINE=${DEADLINE:-510}
else
    # the plumbing on a CPU: toy sizes; MMEngine's AMP needs a GPU, so
    # training is fp32 with the BF16 teacher
    WORKERS=${WORKERS:-0}
    TRAIN_IMAGES=12 VAL_IMAGES=4 IMAGE_SIZE="128 128"
    EPOCHS=1 TRAIN_BATCH=8
    AMP=()
    BENCH=(--device cpu --quick --no-memory --no-compile --no-train
           --max-wait 0 --models DistilPose-S)
    TP=(--device cpu --breakdown --batch 4 --iters 2 --warmup 1)
    TP_CONFIG=$ROOT/configs/distilpose/synthcoco/distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py
    TP_VARIANTS=("fp32|" "BF16 teacher + channels_last|--channels-last --cfg-options model.teacher_precision=bf16")
    T_TRAIN=300 T_TEST=120 T_PYTEST=120 T_BENCH=300 T_TP=120
    TRAIN_LABEL="fp32, BF16 teacher (no AMP on a CPU)"
    DEADLINE=${DEADLINE:-1500}
fi
STUDENT=$ROOT/configs/distilpose/synthcoco/distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.py
STUDENT_TEST=$ROOT/configs/distilpose/synthcoco/distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py
DATA=$WORK/data/synthcoco/
MIM=$("$PY" -c 'import os.path as o, mmpose; print(o.join(o.dirname(mmpose.__file__), ".mim", "tools"))') || {
    echo "mmpose is not importable by $PY: on the GPU machine, first" \
         "'source .gpu/on_device.sh .gpu'; here, PYTHON=.venv/bin/python" >&2
    exit 2
}

declare -a STEPS=()
BEGIN=$(date +%s)
step() {  # step NAME SECONDS COMMAND...: run it, record how it ended
    local name=$1 limit=$2 start rc left
    shift 2
    left=$(( DEADLINE - ($(date +%s) - BEGIN) ))
    if [ "$left" -lt 30 ]; then
        STEPS+=("| $name | SKIPPED (the ${DEADLINE} s budget is spent) | 0 |")
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "=== $name (at most ${limit} s)"
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@"
    rc=$?
    local took=$(( $(date +%s) - start ))
    case $rc in
        0) STEPS+=("| $name | ok | $took |") ;;
        124|137) STEPS+=("| $name | TIMED OUT after $limit s | $took |") ;;
        *) STEPS+=("| $name | FAILED (exit $rc) | $took |") ;;
    esac
    return 0
}

# 0. the machine
{
    echo "device: $DEVICE"; date -u
    "$PY" -c 'import torch, mmengine, mmpose; print("torch", torch.__version__, "CUDA", torch.version.cuda, "| mmengine", mmengine.__version__, "| mmpose", mmpose.__version__); print(torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA")'
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    nproc
} > "$OUT/env.txt" 2>&1

# 1. data
step "synthetic data ($TRAIN_IMAGES + $VAL_IMAGES images)" 120 \
    "$PY" "$ROOT/tools/generate_synthetic_coco.py" "$DATA" \
    --train-images "$TRAIN_IMAGES" --val-images "$VAL_IMAGES" \
    --image-size $IMAGE_SIZE --workers "$WORKERS" \
    --no-progress
LOADER_OPTS=(train_dataloader.num_workers="$WORKERS" val_dataloader.num_workers="$WORKERS"
             test_dataloader.num_workers="$WORKERS")
if [ "$WORKERS" -eq 0 ]; then
    LOADER_OPTS+=(train_dataloader.persistent_workers=False val_dataloader.persistent_workers=False
                  test_dataloader.persistent_workers=False)
else
    LOADER_OPTS+=(train_dataloader.pin_memory=True)
fi
# the COCO config's training set, pointed at the generated data
TP_DATA=(train_dataloader.dataset.data_root="$DATA"
         train_dataloader.dataset.ann_file=annotations/person_keypoints_train.json
         train_dataloader.dataset.data_prefix.img=train/
         train_dataloader.num_workers="$WORKERS")
if [ "$WORKERS" -eq 0 ]; then
    TP_DATA+=(train_dataloader.persistent_workers=False)
fi

# 2. BF16 AMP distillation of the demo student, end to end, then its test
TRAIN_DIR=$WORK/train
rm -rf "$TRAIN_DIR"
step "train: demo student, $TRAIN_LABEL, $EPOCHS epochs" "$T_TRAIN" \
    "$PY" "$MIM/train.py" "$STUDENT" --work-dir "$TRAIN_DIR" --cfg-options \
    "${LOADER_OPTS[@]}" ${AMP[@]+"${AMP[@]}"} \
    model.teacher_precision=bf16 model.test_cfg.precision=bf16 \
    train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval="$EPOCHS" \
    train_dataloader.batch_size="$TRAIN_BATCH" randomness.seed=0 \
    default_hooks.logger.interval=5
CKPT=$(ls "$TRAIN_DIR"/epoch_*.pth 2>/dev/null | sort -V | tail -1)
if [ -n "$CKPT" ]; then
    step "test: the trained student, BF16 inference" "$T_TEST" \
        "$PY" "$MIM/test.py" "$STUDENT_TEST" "$CKPT" \
        --work-dir "$WORK/test" --cfg-options "${LOADER_OPTS[@]}" \
        model.test_cfg.precision=bf16
else
    STEPS+=("| test: the trained student | SKIPPED (no checkpoint) | 0 |")
fi
# the run's log: its set-up lines and everything from the first step on
LOG=$(ls "$TRAIN_DIR"/*/*.log "$WORK"/test/*/*.log 2>/dev/null)
if [ -n "$LOG" ]; then
    grep -h -E "Epoch\(|inference in|AmpOptimWrapper|Traceback|Error:" $LOG \
        > "$OUT/train.log" 2>&1
fi

# 3. inference speed
step "benchmark.py ${BENCH[*]}" "$T_BENCH" \
    "$PY" "$ROOT/tools/benchmark.py" "${BENCH[@]}" --out "$WORK/bench"
for f in benchmark_cuda.md benchmark_cuda.json; do
    [ -f "$WORK/bench/$f" ] && cp "$WORK/bench/$f" "$OUT/$f"
done
if [ "$DEVICE" = cpu ] && [ -f "$WORK/bench/benchmark.md" ]; then
    cp "$WORK/bench/benchmark.md" "$OUT/benchmark_cuda.md"  # the CPU's
fi

# 4. training throughput
: > "$OUT/throughput.md"
for variant in "${TP_VARIANTS[@]}"; do
    name=${variant%%|*}
    read -r -a extra <<< "${variant#*|}"
    {
        echo; echo "### $name"; echo
    } >> "$OUT/throughput.md"
    step "train_throughput.py, $name" "$T_TP" bash -c '
        "$@" 2>"$0.err" | grep -v "^loading\|^Done\|^creating\|^index" >> "$0"
        rc=${PIPESTATUS[0]}; [ $rc -ne 0 ] && tail -5 "$0.err" >> "$0"; exit $rc' \
        "$OUT/throughput.md" "$PY" "$ROOT/tools/train_throughput.py" \
        "$TP_CONFIG" "${TP[@]}" --random-teacher ${extra[@]+"${extra[@]}"} \
        --cfg-options "${TP_DATA[@]}"
    rm -f "$OUT/throughput.md.err"
done

# 5. the GPU tests (last: the measurements come first)
if "$PY" -c 'import pytest' 2>/dev/null; then
    MARK=cuda
    [ "$DEVICE" = cpu ] && MARK="cuda or (not slow)"
    if [ "$DEVICE" = cpu ]; then  # here: a sample, the full suite is long
        SELECT=(tests/test_engine/test_mixed_precision.py tests/test_models/test_necks/test_fused_attention.py)
    else
        SELECT=(tests)
    fi
    step "pytest -m '$MARK'" "$T_PYTEST" bash -c 'cd "$0" && "$@"' "$ROOT" \
        "$PY" -m pytest -q -p no:cacheprovider -m "$MARK" "${SELECT[@]}" \
        > "$OUT/pytest.txt" 2>&1
    tail -3 "$OUT/pytest.txt"
else
    echo "pytest is not installed for $PY: the cuda tests are not run" \
         "(see the header of tools/gpu_check.sh)" | tee "$OUT/pytest.txt"
    STEPS+=("| pytest -m cuda | SKIPPED (no pytest) | 0 |")
fi

# the summary, printed last
{
    echo "# GPU check ($DEVICE), $(date -u +%F' '%H:%M) UTC"; echo
    head -3 "$OUT/env.txt"; echo
    echo "| step | result | seconds |"; echo "|---|---|---|"
    printf '%s\n' "${STEPS[@]}"; echo
    [ -s "$OUT/train.log" ] && { echo '## training and test (last lines)'; echo; tail -4 "$OUT/train.log"; echo; }
    [ -f "$OUT/benchmark_cuda.md" ] && { echo '## inference'; echo; cat "$OUT/benchmark_cuda.md"; echo; }
    [ -s "$OUT/throughput.md" ] && { echo '## training throughput'; cat "$OUT/throughput.md"; }
} > "$OUT/summary.md"
cat "$OUT/summary.md"
