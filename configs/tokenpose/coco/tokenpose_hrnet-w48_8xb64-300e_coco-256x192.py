# TokenPose teacher of DistilPose (official "teacher_hr48", 75.2 AP): a
# 4-stage HRNet-W48, a 12-layer token encoder on 4x3 patches of the 64x48
# map, and the TokenPose heatmap head. Trained as an ordinary MMPose heatmap
# model (MSRA targets, sigma 2, unbiased; flip test; DARK decoding).
_base_ = [
    '../../_base_/schedules/adam-warmup_300e_step200-260.py',
    '../../_base_/datasets/coco_topdown.py',
]

num_keypoints = 17
codec = dict(
    type='MSRAHeatmap',
    input_size=(192, 256),
    heatmap_size=(48, 64),
    sigma=2,
    unbiased=True,
    blur_kernel_size=11)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(48, 96)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(48, 96, 192)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(48, 96, 192, 384))),
        # The official recipe starts from ImageNet HRNet-W48. Nothing is
        # downloaded unless asked for, e.g. with
        #   --cfg-options model.backbone.init_cfg.type=Pretrained \
        #     model.backbone.init_cfg.checkpoint=<hrnet_w48-8ef0771d.pth>
        init_cfg=None),
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=48,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=num_keypoints,
        embed_dims=192,
        depth=12,
        num_heads=8,
        mlp_ratio=3),
    head=dict(
        type='TokenPoseHead',
        in_channels=192,
        out_channels=num_keypoints,
        heatmap_size=codec['heatmap_size'],
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

# Augmentation of teacher_hr48 (rot 40, scale 0.5), as MMPose 1.x samples
# it: scale in the official range, rotation with the official spread (see
# README, "Differences from the official recipe").
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.5, 1.5),
        rotate_factor=74),
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
