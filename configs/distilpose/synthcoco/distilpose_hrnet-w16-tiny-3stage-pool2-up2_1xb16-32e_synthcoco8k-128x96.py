# A cheap DistilPose student on its teacher's patch grid (23 % of the
# teacher's FLOPs: distilpose_hrnet-w16-tiny-3stage-pool2-up2_inference_
# synthcoco-128x96.py) distilled from the stronger TokenPose teacher on
# 8,000 generated images (tools/generate_synthetic_coco.py data/synthcoco_8k
# --train-images 8000 --val-images 200 --seed 10), 32 epochs. Its backbone
# starts from the teacher's HRNet stages 1-3; its 64 visual tokens sit on
# the teacher's 8x8 grid, so all four terms are distilled.
# Its baseline:
#   td-reg_hrnet-w16-tiny-3stage-pool2-up2-tde_1xb16-32e_synthcoco8k-128x96.py
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# runtime: 32 epochs of 741 iterations, validation every 2
train_cfg = dict(max_epochs=32, val_interval=2)

# learning policy: the warm-up of the base, a cosine decay over 32 epochs
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=100, start_factor=0.01,
        by_epoch=False),  # warm-up
    dict(
        type='CosineAnnealingLR',
        begin=0,
        end=train_cfg['max_epochs'],
        by_epoch=True,
        eta_min=1e-5)
]

# model settings: the half-resolution student on the teacher's grid and its
# frozen teacher
model = dict(
    type='DistilPoseDistiller',
    backbone=dict(input_pool=2),
    neck=dict(feature_stride=8, upsample=2, depth=2, mlp_ratio=2),
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-20e-restart_synthcoco-128x96.py',
    teacher_ckpt='model_zoo/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-4x20e-8k10e_synthcoco-128x96.pth',
    init_backbone_from_teacher=True,
    distill_losses=dict(
        vis_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
        kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
        sim_heatmap=dict(
            type='SimulatedHeatmapLoss',
            reduction_mode='masked',
            loss_weight=1.0),
        score=dict(
            type='ScoreDistilLoss', loss_weight=0.01, coord_scale=None)))

# data: the 8,000 generated training images and their 200 val images
data_root = 'data/synthcoco_8k/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=f'{data_root}annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator

# hooks: a checkpoint every 2 epochs, the last two kept (a run resumes
# from them)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=2))
