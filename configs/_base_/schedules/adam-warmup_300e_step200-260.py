_base_ = ['../default_runtime.py']

# The official DistilPose / TokenPose recipe: Adam 1e-3, 500-iteration linear
# warm-up from 0.001 x lr, lr x0.1 at epochs 200 and 260, 300 epochs.
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=10)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))

param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=300,
        milestones=[200, 260],
        gamma=0.1,
        by_epoch=True)
]

# The recipe's total batch: 8 GPUs x 32 (students) or x 64 (teachers).
auto_scale_lr = dict(base_batch_size=256)

default_hooks = dict(
    checkpoint=dict(interval=10, save_best='coco/AP', rule='greater'))
