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
    '../../_base_/models/topdown_tde_128x96.py',
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
]

max_epochs = 30
codec = _base_.heatmap_codec

model = dict(
    backbone=dict(
        type='StemNet', stem_channels=64, out_channels=128, num_blocks=2),
    neck=dict(in_channels=128, depth=6),
    head=dict(
        _base_.tokenpose_head,
        heatmap_size=codec['heatmap_size'],
        zero_init_last=True,
        decoder=codec))

train_dataloader = dict(dataset=dict(pipeline=_base_.heatmap_train_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [_base_.warmup, dict(_base_.cosine, end=max_epochs)]
default_hooks = dict(checkpoint=_base_.keep_best_checkpoint)
