# A TokenPose teacher on the generated people (CPU-sized): a StemNet
# backbone, a 6-layer 96-dim token encoder on 4x3 patches of the 32x24 map
# (the demo student's token size and grid, as token distillation needs) and
# the TokenPose heatmap head, trained as an ordinary MMPose heatmap model.
# From scratch it sits at the mean pose for about 26 epochs (README, "The
# demo: teachers"); the demo's teacher is the HRNet variant of this config.
#
# One departure from the official initialisation, named in the head config:
# zero_init_last starts the head's last Linear at zero (README, "The demo").
_base_ = [
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
]

num_keypoints = 17
max_epochs = 30
codec = dict(
    type='MSRAHeatmap',
    input_size=_base_.input_size,
    heatmap_size=(24, 32),
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
        type='StemNet', stem_channels=64, out_channels=128, num_blocks=2),
    neck=dict(
        type='TokenDistillingEncoder',
        in_channels=128,
        input_size=codec['input_size'],
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=num_keypoints,
        embed_dims=96,
        depth=6,
        num_heads=4,
        mlp_ratio=3),
    head=dict(
        type='TokenPoseHead',
        in_channels=96,
        out_channels=num_keypoints,
        heatmap_size=codec['heatmap_size'],
        zero_init_last=True,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))

train_pipeline = _base_.train_augmentation + [
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [_base_.warmup, dict(_base_.cosine, end=max_epochs)]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=2, max_keep_ckpts=2, save_best='coco/AP',
                    rule='greater'))
