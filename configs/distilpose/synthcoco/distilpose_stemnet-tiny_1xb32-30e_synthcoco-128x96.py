# The demo's DistilPose student, distilled from the demo's TokenPose teacher
# (train that first; tools/demo.py does). The distillation terms and weights
# are the official recipe's (DistilPoseDistiller defaults).
_base_ = ['./distilpose_stemnet-tiny_inference_synthcoco-128x96.py']

model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_stemnet-tiny_1xb32-30e_synthcoco-128x96.py',
    teacher_ckpt='work_dirs/tokenpose_stemnet-tiny_1xb32-30e_synthcoco-'
    '128x96/epoch_30.pth')
