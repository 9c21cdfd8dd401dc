# A StemNet DistilPose student distilled from the StemNet TokenPose teacher
# on the generated people, with the official recipe's terms and weights: the
# tests' small distiller. Trained from scratch for 8 epochs it stays at the
# mean pose (README, "The demo: teachers"); the demo uses the HRNet student.
# The teacher checkpoint is what `mim train mmpose <teacher config>` writes.
_base_ = [
    './distilpose_stemnet-tiny_inference_synthcoco-128x96.py',
    '../../_base_/distillation/distilpose_losses.py',
]

model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py',
    teacher_ckpt='work_dirs/tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96/'
    'epoch_30.pth',
    distill_losses=_base_.distill_losses)
