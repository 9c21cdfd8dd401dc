# A TokenPose teacher on the generated people (CPU-sized): the demo
# teacher's config on a StemNet backbone, trained from scratch for 30
# epochs. From scratch it sits at the mean pose for about 26 epochs
# (docs/demo.md); the demo's teacher is the HRNet config.
_base_ = ['./tokenpose_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py']

# runtime
train_cfg = dict(max_epochs=30)

# learning policy: the cosine ends with the 30 epochs
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

# model settings
model = dict(
    backbone=dict(
        _delete_=True,
        type='StemNet',
        stem_channels=64,
        out_channels=128,
        num_blocks=2),
    neck=dict(in_channels=128))
