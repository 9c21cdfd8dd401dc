# The generated COCO-format people of the demo (made by
# tools/generate_synthetic_coco.py OUT; tools/demo.py writes data/synthcoco):
# ground-truth boxes for training and validation, 128x96 crops. Each config
# adds its targets to the augmentation:
#   train_pipeline = _base_.train_augmentation + [
#       dict(type='GenerateTarget', encoder=codec),
#       dict(type='PackPoseInputs')]
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
dataset_type = 'CocoDataset'
data_mode = 'topdown'
data_root = 'data/synthcoco/'
input_size = (96, 128)

train_augmentation = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    # No flip: the generated people mark their left limbs, a cue that a
    # mirror image would contradict (and so no flip test either).
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.75, 1.25),
        rotate_factor=30),
    dict(type='TopdownAffine', input_size=input_size),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/')))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# CocoMetric as on COCO (with the ground-truth boxes), plus PCK@0.2 of the
# box size and the mean pixel error, which still tell models apart early in
# training when AP is low.
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=f'{data_root}annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
