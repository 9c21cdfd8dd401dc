# TokenPose on the light StemNet backbone (official "teacher_stemnet").
_base_ = ['./tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py']

model = dict(
    backbone=dict(_delete_=True, type='StemNet'),
    neck=dict(in_channels=256))

# teacher_stemnet uses the students' augmentation (rot 45, scale 0.35).
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.65, 1.35),
        rotate_factor=84),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
