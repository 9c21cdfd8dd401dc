# The regression baseline of the cheap DistilPose student on its teacher's
# grid: the same network, data, schedule, seed and initialisation (the
# stronger teacher's HRNet stages 1-3), trained alone with the coordinate
# loss.
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

# model settings: the half-resolution network on the teacher's grid, its
# backbone from the
# teacher checkpoint, no score or sigma outputs
model = dict(
    backbone=dict(
        input_pool=2,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='model_zoo/synthcoco/tokenpose_hrnet-w16-tiny_'
            '1xb16-4x20e-8k10e_synthcoco-128x96.pth')),
    neck=dict(feature_stride=8, upsample=2, depth=2, mlp_ratio=2),
    head=dict(with_score=False, with_sigma=False))

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
