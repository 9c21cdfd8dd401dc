# CPU-sized regression baseline on the generated people
# (tools/generate_synthetic_coco.py): the td-reg StemNet config at 128x96,
# with a narrow StemNet, a 4-layer 96-dim token encoder and a short
# schedule. The DistilPose student and the TokenPose teacher of the demo
# share its sizes and data.
_base_ = ['../coco/td-reg_stemnet-tde_8xb64-300e_coco-256x192.py']

num_keypoints = 17
codec = dict(type='RegressionLabel', input_size=(96, 128))

model = dict(
    backbone=dict(stem_channels=32, out_channels=64, num_blocks=1),
    neck=dict(
        in_channels=64,
        input_size=codec['input_size'],
        embed_dims=96,
        depth=4,
        num_heads=4),
    head=dict(in_channels=96, decoder=codec),
    test_cfg=dict(flip_test=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    # No flip: the generated people mark their left limbs, a cue that a
    # mirror image would contradict (and so no flip test either).
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.75, 1.25),
        rotate_factor=30),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

# ---- generated data, 2-core CPU schedule (shared with the demo's teacher)
data_root = 'data/synthcoco/'
max_epochs = 30
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=None,
        data_prefix=dict(img='val/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
# CocoMetric as on COCO, plus PCK@0.2 (of the box size) and the mean pixel
# error, which still tell models apart early in training when AP is low.
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=f'{data_root}annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         eta_min=1e-5)
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, save_best=None))
