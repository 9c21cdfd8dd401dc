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
