# Regression baseline of DistilPose-S: the same StemNet + token encoder +
# regression head, trained alone with the coordinate loss only (the
# official "stemnet_coco_256x192", which does not run in the official code).
_base_ = [
    '../../_base_/schedules/adam-warmup_300e_step200-260.py',
    '../../_base_/datasets/coco_topdown.py',
]

num_keypoints = 17
codec = dict(type='RegressionLabel', input_size=(192, 256))

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='StemNet'),
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=256,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=num_keypoints,
        embed_dims=192,
        depth=12,
        num_heads=8,
        mlp_ratio=3),
    head=dict(
        type='DistilPoseHead',
        in_channels=192,
        num_joints=num_keypoints,
        with_score=False,
        with_sigma=False,
        loss=dict(type='SmoothL1Loss', use_target_weight=True),
        decoder=codec),
    # Flipped x is 1 - x with no pixel shift, as in the official code.
    test_cfg=dict(flip_test=True, shift_coords=False, flip_score_swap=True))

# Student augmentation (rot 45, scale 0.35) as MMPose 1.x samples it: scale
# in the official range, rotation with the official spread (README,
# "Differences from the official recipe").
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

train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
