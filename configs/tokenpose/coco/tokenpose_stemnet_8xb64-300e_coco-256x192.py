# TokenPose on the light StemNet backbone (official "teacher_stemnet"): the
# HRNet-W48 teacher's config with the students' backbone and augmentation.
_base_ = ['./tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py']

model = dict(
    backbone=dict(_delete_=True, type='StemNet'),
    neck=dict(in_channels=256))

train_pipeline = _base_.student_augmentation + [
    dict(type='GenerateTarget', encoder=_base_.codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
