# TokenPose teacher of DistilPose (official "teacher_hr48", 75.2 AP): a
# 4-stage HRNet-W48, a 12-layer token encoder on 3x4 patches of the 48x64
# map, and the TokenPose heatmap head. Trained as an ordinary MMPose heatmap
# model (MSRA targets, sigma 2, unbiased; flip test; DARK decoding).
_base_ = [
    '../../_base_/models/topdown_tde_256x192.py',
    '../../_base_/backbones/hrnet-w48.py',
    '../../_base_/datasets/coco_topdown.py',
    '../../_base_/schedules/adam-warmup_300e_step200-260.py',
]

codec = _base_.heatmap_codec

model = dict(
    backbone=_base_.hrnet_w48,
    neck=dict(in_channels=48),
    head=dict(
        _base_.tokenpose_head,
        heatmap_size=codec['heatmap_size'],
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

train_pipeline = _base_.teacher_augmentation + [
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
