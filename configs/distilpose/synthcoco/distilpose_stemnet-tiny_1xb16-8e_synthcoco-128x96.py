# The demo's DistilPose student distilled from the demo's TokenPose teacher
# (the shipped checkpoint; tools/demo.py --train-teacher re-creates it). The
# distillation terms and weights are the official recipe's.
_base_ = [
    './distilpose_stemnet-tiny_inference_synthcoco-128x96.py',
    '../../_base_/distillation/distilpose_losses.py',
]

model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py',
    teacher_ckpt='model_zoo/synthcoco/'
    'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.pth',
    distill_losses=_base_.distill_losses)

train_cfg = dict(max_epochs=8, val_interval=1)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=8, save_best=None))
