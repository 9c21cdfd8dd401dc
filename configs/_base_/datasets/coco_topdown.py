# COCO person keypoints, top-down, 192x256 (w x h) crops: GT boxes for
# training, the detector boxes of the official recipe for validation.
#
# The train pipeline ends with the targets of each config's codec:
#   train_pipeline = _base_.student_augmentation + [
#       dict(type='GenerateTarget', encoder=codec),
#       dict(type='PackPoseInputs')]
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# The students and regression baselines use regression_train_pipeline.
dataset_type = 'CocoDataset'
data_mode = 'topdown'
data_root = 'data/coco/'
input_size = (192, 256)
# The heatmap targets of the TokenPose teachers (official: MSRA Gaussians of
# sigma 2 on a quarter-size map, DARK decoding); the distiller draws the
# student's simulated heatmaps in the teacher codec's frame.
heatmap_codec = dict(
    type='MSRAHeatmap', input_size=input_size, heatmap_size=(48, 64),
    sigma=2, unbiased=True, blur_kernel_size=11)

# The official (MMPose 0.x) augmentation as MMPose 1.x samples it: scale in
# the official range, rotation with the official spread (README,
# "Differences from the official code"). The HRNet-W48 teacher: rot 40,
# scale 0.5; the students and TokenPose-StemNet: rot 45, scale 0.35.
teacher_augmentation = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.5, 1.5),
        rotate_factor=74),
    dict(type='TopdownAffine', input_size=input_size),
]
student_augmentation = teacher_augmentation[:4] + [
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.65, 1.35),
        rotate_factor=84),
    dict(type='TopdownAffine', input_size=input_size),
]
# The coordinate targets of the DistilPose students and their baselines.
regression_codec = dict(type='RegressionLabel', input_size=input_size)
regression_train_pipeline = student_augmentation + [
    dict(type='GenerateTarget', encoder=regression_codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/')))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file=f'{data_root}person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# bbox x mean keypoint score above 0.2, then OKS-NMS at 0.9: the rescoring
# of the official (MMPose 0.x) evaluation.
val_evaluator = dict(
    type='CocoMetric',
    ann_file=f'{data_root}annotations/person_keypoints_val2017.json',
    score_mode='bbox_keypoint',
    keypoint_score_thr=0.2,
    nms_mode='oks_nms',
    nms_thr=0.9)
test_evaluator = val_evaluator
