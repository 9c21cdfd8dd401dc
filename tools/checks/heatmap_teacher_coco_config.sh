#!/usr/bin/env bash
# One epoch of `mim train mmpose` of the DistilPose-S config whose teacher
# is MMPose's HRNet-W48 (an mmpose:: config), on 16 generated images, with
# a randomly initialised teacher saved as an ordinary MMPose checkpoint (no
# download). It trains, then validates; run from anywhere.
set -e
cd "$(dirname "$0")/../.."
T=/tmp/acc13; rm -rf $T; mkdir -p $T
.venv/bin/python tools/generate_synthetic_coco.py $T/data --train-images 16 --val-images 4 --seed 3 > /dev/null
.venv/bin/python - <<'PY'
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS
from distilpose.models.distillers.teacher import resolve_scoped_config
init_default_scope('mmpose')
cfg = Config.fromfile(resolve_scoped_config('mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py'))
cfg.model.backbone.init_cfg = None
m = MODELS.build(cfg.model); m.init_weights()
torch.save(dict(state_dict=m.state_dict()), '/tmp/acc13/hrnet-w48-random.pth')
PY
D=$T/data
.venv/bin/mim train mmpose configs/distilpose/coco/distilpose-s_stemnet_td-hm-hrnet-w48-teacher_8xb32-300e_coco-256x192.py --work-dir $T/work --cfg-options model.teacher_ckpt=$T/hrnet-w48-random.pth train_cfg.max_epochs=1 train_dataloader.batch_size=4 train_dataloader.num_workers=0 train_dataloader.persistent_workers=False val_dataloader.num_workers=0 val_dataloader.persistent_workers=False train_dataloader.dataset.data_root=$D/ train_dataloader.dataset.ann_file=annotations/person_keypoints_train.json train_dataloader.dataset.data_prefix.img=train/ val_dataloader.dataset.data_root=$D/ val_dataloader.dataset.ann_file=annotations/person_keypoints_val.json val_dataloader.dataset.data_prefix.img=val/ val_dataloader.dataset.bbox_file=None val_evaluator.ann_file=$D/annotations/person_keypoints_val.json default_hooks.logger.interval=1
