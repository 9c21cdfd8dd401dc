# A StemNet DistilPose student on the generated people (CPU-sized), alone:
# for test, inference and export. A StemNet (32-channel stem, one
# Bottleneck), a 4-layer 96-dim token encoder on 4x3 patches of the 32x24
# map and the DistilPose head. Its training configs set the epochs:
#   distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py  (distilled)
#   td-reg_stemnet-tiny-tde_1xb16-8e_synthcoco-128x96.py  (baseline)
_base_ = [
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
]

num_keypoints = 17
codec = dict(type='RegressionLabel', input_size=_base_.input_size)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='StemNet', stem_channels=32, out_channels=64, num_blocks=1),
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=64,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=num_keypoints,
        embed_dims=96,
        depth=4,
        num_heads=4,
        mlp_ratio=3),
    head=dict(
        type='DistilPoseHead',
        in_channels=96,
        num_joints=num_keypoints,
        with_score=True,
        with_sigma=True,
        loss=dict(type='SmoothL1Loss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))

# The training pipeline of both training configs (coordinates as targets).
train_pipeline = _base_.train_augmentation + [
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
