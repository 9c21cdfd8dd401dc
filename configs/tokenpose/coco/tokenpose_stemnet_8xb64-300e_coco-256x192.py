# TokenPose on the light StemNet backbone (official "teacher_stemnet"): the
# HRNet-W48 teacher's config with the students' backbone and augmentation.
_base_ = ['./tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py']

# codec settings (as in the base config)
codec = dict(
    type='MSRAHeatmap',
    input_size=(192, 256),
    heatmap_size=(48, 64),
    sigma=2,
    unbiased=True,
    blur_kernel_size=11)

# model settings
model = dict(
    backbone=dict(_delete_=True, type='StemNet'),
    neck=dict(in_channels=256))

# pipelines: the students' augmentation (official rotation 45, scale 0.35)
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

# data loaders
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
