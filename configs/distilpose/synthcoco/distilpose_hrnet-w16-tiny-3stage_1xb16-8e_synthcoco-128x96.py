# The demo's DistilPose student distilled from the demo's TokenPose teacher
# (the shipped checkpoint; tools/demo.py --train-teacher re-creates it),
# with the official recipe's four terms and weights. As DistilPose-L does,
# the student's HRNet stages start from the teacher's.
_base_ = [
    './distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py',
    '../../_base_/distillation/distilpose_losses.py',
]

model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-20e-restart_synthcoco-128x96.py',
    teacher_ckpt='model_zoo/synthcoco/'
    'tokenpose_hrnet-w16-tiny_1xb16-4x20e_synthcoco-128x96.pth',
    init_backbone_from_teacher=True,
    distill_losses=_base_.distill_losses)
