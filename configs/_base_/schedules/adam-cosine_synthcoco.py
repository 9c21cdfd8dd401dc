# The CPU-sized schedule of the synthcoco configs, on the runtime defaults:
# Adam 1e-3, a 100-iteration linear warm-up, then a cosine decay to 1e-5
# over the students' 8 epochs. A config that trains longer ends the cosine
# with its epochs:
#   param_scheduler = [_base_.warmup, dict(_base_.cosine, end=max_epochs)]
# (and on the command line: train_cfg.max_epochs=N param_scheduler.1.end=N).
_base_ = ['../default_runtime.py']

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
warmup = dict(
    type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False)
cosine = dict(
    type='CosineAnnealingLR', begin=0, end=8, by_epoch=True, eta_min=1e-5)
param_scheduler = [warmup, cosine]
auto_scale_lr = dict(base_batch_size=16)

# The students' 8 epochs: validation every epoch, one checkpoint at the end.
train_cfg = dict(max_epochs=8, val_interval=1)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=8, save_best=None))
# Longer runs (the teachers) validate every 2 epochs and keep the best:
#   train_cfg = dict(max_epochs=N, val_interval=2)
#   default_hooks = dict(checkpoint=_base_.keep_best_checkpoint)
keep_best_checkpoint = dict(
    interval=2, max_keep_ckpts=2, save_best='coco/AP', rule='greater')
