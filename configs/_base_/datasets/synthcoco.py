# The generated COCO-format people of the demo (made by
# tools/generate_synthetic_coco.py OUT; tools/demo.py writes data/synthcoco):
# COCO's top-down data settings with the generated files, 128x96 crops and
# ground-truth boxes for training and validation. Each config adds its
# targets to the augmentation:
#   train_pipeline = _base_.train_augmentation + [
#       dict(type='GenerateTarget', encoder=codec),
#       dict(type='PackPoseInputs')]
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# The heatmap models (the teachers) use heatmap_train_pipeline as it is,
# the students and regression baselines regression_train_pipeline.
_base_ = ['./coco_topdown.py']

data_root = 'data/synthcoco/'
input_size = (96, 128)
heatmap_codec = dict(
    _base_.heatmap_codec, input_size=input_size, heatmap_size=(24, 32))
regression_codec = dict(_base_.regression_codec, input_size=input_size)

# COCO's loading without the flip: the generated people mark their left
# limbs, a cue that a mirror image would contradict (so no flip test either).
train_augmentation = _base_.teacher_augmentation[:2] + [
    dict(type='RandomBBoxTransform', scale_factor=(0.75, 1.25),
         rotate_factor=30),
    dict(type='TopdownAffine', input_size=input_size),
]
heatmap_train_pipeline = train_augmentation + [
    dict(type='GenerateTarget', encoder=heatmap_codec),
    dict(type='PackPoseInputs')
]
regression_train_pipeline = train_augmentation + [
    dict(type='GenerateTarget', encoder=regression_codec),
    dict(type='PackPoseInputs')
]
val_pipeline = _base_.val_pipeline[:2] + [
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(data_root=data_root, data_prefix=dict(img='train/'),
                 ann_file='annotations/person_keypoints_train.json'))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img='val/'),
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=None,  # ground-truth boxes
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
