# The demo's DistilPose student distilled from the demo's TokenPose teacher
# (the model zoo's stronger teacher: 4 x 20 epochs on the demo's images,
# then one 10-epoch cycle on 8,000 more; tools/demo.py --train-teacher
# re-creates it), with the official recipe's four terms and weights. As
# DistilPose-L does, the student's HRNet stages start from the teacher's.
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# model settings: the student of the base config and its frozen teacher
model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-20e-restart_synthcoco-128x96.py',
    teacher_ckpt='model_zoo/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-4x20e-8k10e_synthcoco-128x96.pth',
    init_backbone_from_teacher=True,
    distill_losses=dict(
        vis_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
        kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
        # 'masked' is the loss the official code intends; 'official'
        # reproduces its broadcast slip (see the loss's docstring)
        sim_heatmap=dict(
            type='SimulatedHeatmapLoss',
            reduction_mode='masked',
            loss_weight=1.0),
        # the official lookup (coord_scale=None: indices scaled by w - 1
        # and h - 1, not the teacher's heatmap frame)
        score=dict(
            type='ScoreDistilLoss', loss_weight=0.01, coord_scale=None)))
