# DistilPose-S, the student alone (no teacher): StemNet + token encoder +
# the DistilPose regression head (x, y, score, sigma_x, sigma_y). Use it
# with init_model / inference_topdown / MMPoseInferencer / mim test and a
# checkpoint trained with distilpose-s_stemnet_8xb32-300e_coco-256x192,
# which adds the teacher to this config; the regression baseline
# td-reg_stemnet-tde_8xb64-300e_coco-256x192 trains it alone.
_base_ = ['../../_base_/default_runtime.py']

# runtime
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=10)

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))

# learning policy: the official DistilPose / TokenPose recipe
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),  # warm-up
    dict(
        type='MultiStepLR',
        begin=0,
        end=train_cfg['max_epochs'],
        milestones=[200, 260],
        gamma=0.1,
        by_epoch=True)
]

# automatically scaling LR based on the actual training batch size: the
# recipe's 8 GPUs x 32 (students) or x 64 (teachers)
auto_scale_lr = dict(base_batch_size=256)

# codec settings
codec = dict(type='RegressionLabel', input_size=(192, 256))

# model settings
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='StemNet'),
    # the token encoder on the stride-4 map: 3x4 patches of the 48x64 map
    # give 256 visual tokens, plus one token per keypoint
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=256,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=17,
        embed_dims=192,
        depth=12,
        num_heads=8,
        mlp_ratio=3),
    head=dict(
        type='DistilPoseHead',
        in_channels=192,
        num_joints=17,
        with_score=True,
        with_sigma=True,
        loss=dict(type='SmoothL1Loss', use_target_weight=True),
        decoder=codec),
    # flipped x is 1 - x with no pixel shift, as in the official code
    test_cfg=dict(flip_test=True, shift_coords=False, flip_score_swap=True))

# base dataset settings
dataset_type = 'CocoDataset'
data_mode = 'topdown'
data_root = 'data/coco/'

# pipelines: the official (MMPose 0.x) augmentation of the students
# (rotation 45, scale 0.35) as MMPose 1.x samples it (docs/design.md,
# "Differences from the official code")
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.65, 1.35),
        rotate_factor=84),
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

# data loaders: the students' batch, 8 GPUs x 32; GT boxes for training,
# the official detector boxes for validation
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file=f'{data_root}person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# hooks
default_hooks = dict(
    checkpoint=dict(interval=10, save_best='coco/AP', rule='greater'))

# evaluators: bbox x mean keypoint score above 0.2, then OKS-NMS at 0.9,
# the rescoring of the official (MMPose 0.x) evaluation
val_evaluator = dict(
    type='CocoMetric',
    ann_file=f'{data_root}annotations/person_keypoints_val2017.json',
    score_mode='bbox_keypoint',
    keypoint_score_thr=0.2,
    nms_mode='oks_nms',
    nms_thr=0.9)
test_evaluator = val_evaluator
