# DistilPose-S distilled from MMPose's ViTPose-B heatmap model
# (td-hm_ViTPose-base_8xb64-210e_coco-256x192, COCO val AP 0.757). ViTPose
# uses the UDP codec, so the student's crops use the UDP affine (the teacher
# runs on the student's batch) and the simulated heatmaps are drawn in the
# UDP frame, x * (48 - 1) / (192 - 1), which the distiller takes from the
# teacher's codec. Heatmap terms only, as for any non-TokenPose teacher.
#
# Needs mmpretrain (ViTPose's backbone is mmpretrain.VisionTransformer):
#   pip install mmpretrain
# teacher_ckpt: nothing downloads at run time; see the HRNet-W48 variant.
_base_ = ['./distilpose-s_stemnet_inference_coco-256x192.py']

# codec settings (as in the base config)
codec = dict(type='RegressionLabel', input_size=(192, 256))

# model settings: the student of the base config with the two heatmap terms
model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_ViTPose-base_8xb64-210e_coco-256x192.py',
    teacher_ckpt='https://download.openmmlab.com/mmpose/v1/'
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_ViTPose-base_8xb64-210e_coco-256x192-216eae50_20230314.pth',
    distill_losses=dict(
        sim_heatmap=dict(
            type='SimulatedHeatmapLoss',
            reduction_mode='masked',
            loss_weight=1.0),
        score=dict(type='ScoreDistilLoss', loss_weight=0.01)))

# pipelines: the base config's, with the UDP affine
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        scale_factor=(0.65, 1.35),
        rotate_factor=84),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackPoseInputs')
]

# data loaders
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
