#!/usr/bin/env bash
# The BF16-teacher experiment of the README (Fast CPU paths): for each seed
# given, the demo's DistilPose student trained twice side by side, one torch
# thread each (as `make demo` trains its student and baseline), with the
# fp32 and with the BF16 teacher; the final val AP is in each work dir's log.
#
#   tools/experiments/bf16_teacher_pairs.sh 0 1 2   # ~11 min a seed, 2 cores
#
# Needs .venv (tools/setup_env.sh) and data/synthcoco
# (tools/generate_synthetic_coco.py data/synthcoco --train-images 2000
# --val-images 200 --seed 0).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$PWD/data/synthcoco
CFG=configs/distilpose/synthcoco/distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.py
ANN=$DATA/annotations/person_keypoints_val.json
OPTS=(train_dataloader.dataset.data_root=$DATA/
  val_dataloader.dataset.data_root=$DATA/
  test_dataloader.dataset.data_root=$DATA/
  val_evaluator.0.ann_file=$ANN test_evaluator.0.ann_file=$ANN)
for seed in "$@"; do
  for precision in fp32 bf16; do
    work=work_dirs/bf16_teacher/${precision}_seed$seed
    mkdir -p "$work"
    OMP_NUM_THREADS=1 .venv/bin/mim train mmpose $CFG --work-dir "$work" \
      --cfg-options "${OPTS[@]}" randomness.seed=$seed \
      model.teacher_precision=$precision >"$work/train.log" 2>&1 &
  done
  wait
  for precision in fp32 bf16; do
    printf 'seed %s, %s teacher: ' "$seed" "$precision"
    grep -o 'coco/AP: [0-9.]*' "work_dirs/bf16_teacher/${precision}_seed$seed/train.log" | tail -n1
  done
done
