# The demo's TokenPose teacher on the demo-size HRNet (the paper's teacher is
# TokenPose on HRNet-W48): a 6-layer 96-dim token encoder on 4x3 patches of
# the 32x24 map (the demo student's token size and grid, as token
# distillation needs) and the TokenPose heatmap head, trained as an
# ordinary MMPose heatmap model.
#
# As the official TokenPose starts from a pretrained HRNet, the backbone
# starts from the trained HRNet heatmap model of the model zoo
# (configs/topdown_heatmap/synthcoco/), read from the local file.
# One departure from the official initialisation: zero_init_last starts
# the head's last Linear at zero (docs/demo.md).
_base_ = ['../../_base_/default_runtime.py']

# runtime: validation every 2 epochs
train_cfg = dict(max_epochs=20, val_interval=2)

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))

# learning policy: a 100-iteration warm-up, then a cosine decay to 1e-5
# (a longer run on the command line: train_cfg.max_epochs=N
# param_scheduler.1.end=N)
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

# automatically scaling LR based on the actual training batch size
auto_scale_lr = dict(base_batch_size=16)

# codec settings
codec = dict(
    type='MSRAHeatmap',
    input_size=(96, 128),
    heatmap_size=(24, 32),
    sigma=2,
    unbiased=True,
    blur_kernel_size=11)

# model settings
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # stage i has i branches of widths 16-32-64-128; the stride-4 branch,
    # [N, 16, H/4, W/4], is the output
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(1, ),
                num_channels=(16, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(1, 1),
                num_channels=(16, 32)),
            stage3=dict(
                num_modules=1,
                num_branches=3,
                block='BASIC',
                num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128))),
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='model_zoo/synthcoco/'
            'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth')),
    # the token encoder on the stride-4 map: 4x3 patches of the 32x24 map
    # give 64 visual tokens, plus one token per keypoint
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=16,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=17,
        embed_dims=96,
        depth=6,
        num_heads=4,
        mlp_ratio=3),
    head=dict(
        type='TokenPoseHead',
        in_channels=96,
        out_channels=17,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        heatmap_size=codec['heatmap_size'],
        zero_init_last=True,
        decoder=codec),
    # no flip test: the generated people mark their left limbs
    test_cfg=dict(flip_test=False))

# base dataset settings: the generated COCO-format people of the demo
# (tools/generate_synthetic_coco.py; tools/demo.py writes data/synthcoco)
dataset_type = 'CocoDataset'
data_mode = 'topdown'
data_root = 'data/synthcoco/'

# pipelines: no flip, as the generated people mark their left limbs
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
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

# data loaders: ground-truth boxes for training and validation
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=None,
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# hooks: keep the best 2 checkpoints
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        interval=2, max_keep_ckpts=2, save_best='coco/AP', rule='greater'))

# evaluators: COCO AP, plus PCK@0.2 of the box size and the mean pixel
# error, which still tell models apart early in training when AP is low
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=f'{data_root}annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
