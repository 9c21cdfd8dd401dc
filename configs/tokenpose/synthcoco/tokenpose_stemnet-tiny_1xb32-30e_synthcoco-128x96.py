# CPU-sized TokenPose teacher on the generated people: the TokenPose StemNet
# config at 128x96 with a wider StemNet than the demo's student, and a 6-layer
# 96-dim token encoder (the student's token size and patch grid, as token
# distillation needs). Data and schedule as the demo's regression baseline.
_base_ = ['../coco/tokenpose_stemnet_8xb64-300e_coco-256x192.py']

num_keypoints = 17
codec = dict(
    type='MSRAHeatmap',
    input_size=(96, 128),
    heatmap_size=(24, 32),
    sigma=2,
    unbiased=True,
    blur_kernel_size=11)

model = dict(
    backbone=dict(stem_channels=64, out_channels=128, num_blocks=2),
    neck=dict(
        in_channels=128,
        input_size=codec['input_size'],
        embed_dims=96,
        depth=6,
        num_heads=4),
    head=dict(
        in_channels=96, heatmap_size=codec['heatmap_size'], decoder=codec),
    test_cfg=dict(flip_test=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    # No flip: the generated people mark their left limbs, a cue that a
    # mirror image would contradict (and so no flip test either).
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.75, 1.25),
        rotate_factor=30),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

# ---- generated data, 2-core CPU schedule (as the demo's baseline) -------
data_root = 'data/synthcoco/'
max_epochs = 30
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=None,
        data_prefix=dict(img='val/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
# CocoMetric as on COCO, plus PCK@0.2 (of the box size) and the mean pixel
# error, which still tell models apart early in training when AP is low.
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=f'{data_root}annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         eta_min=1e-5)
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, save_best=None))
