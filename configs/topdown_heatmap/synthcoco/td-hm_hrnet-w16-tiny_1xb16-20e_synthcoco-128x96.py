# A demo-size MMPose heatmap model on the generated people, to distil a
# DistilPose student from a teacher that is not TokenPose: MMPose's own
# HRNet (one module per stage, one block per branch, widths 16-128) and
# HeatmapHead on the stride-4 branch, with the MSRA codec of the TokenPose
# demo teacher. Nothing here is DistilPose code: any MMPose heatmap config
# would do as a teacher.
_base_ = [
    '../../_base_/models/topdown.py',
    '../../_base_/backbones/hrnet-w16-tiny.py',
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
]

max_epochs = 20
codec = _base_.heatmap_codec

model = dict(
    backbone=_base_.hrnet_w16_tiny,
    head=dict(
        type='HeatmapHead',
        in_channels=16,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))

train_dataloader = dict(dataset=dict(pipeline=_base_.heatmap_train_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [_base_.warmup, dict(_base_.cosine, end=max_epochs)]
default_hooks = dict(checkpoint=_base_.keep_best_checkpoint)
