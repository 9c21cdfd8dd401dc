# A warm restart of the model zoo's cheap DistilPose student: one more
# 16-epoch cosine cycle at half the learning rate, from the shipped
# 32-epoch weights (the optimizer starts afresh), as the demo teacher's
# restarts were run (docs/learning.md):
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0
#
# Its baseline: td-reg_hrnet-w16-tiny-3stage-pool2-tde_1xb16-16e-restart_...
_base_ = [
    './distilpose_hrnet-w16-tiny-3stage-pool2_'
    '1xb16-32e_synthcoco8k-128x96.py'
]

# runtime: 16 epochs of 741 iterations, validation every 2
train_cfg = dict(max_epochs=16, val_interval=2)

# optimizer: half the first cycle's learning rate
optim_wrapper = dict(optimizer=dict(lr=5e-4))

# learning policy: the warm-up of the base, a cosine decay over 16 epochs
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

# the first cycle's weights (the teacher's backbone is overwritten by them)
load_from = ('model_zoo/synthcoco/distilpose_hrnet-w16-tiny-3stage-pool2_'
             '1xb16-32e_synthcoco8k-128x96.pth')
