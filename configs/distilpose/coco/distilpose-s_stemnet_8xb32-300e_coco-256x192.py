# DistilPose-S training (official recipe: 8 GPUs x 32, 300 epochs)
#   student: distilpose-s_stemnet_inference_coco-256x192 (the base below)
#   teacher: tokenpose_hrnet-w48_8xb64-300e_coco-256x192 (frozen)
# Checkpoints hold the student only and load into the student's config.
#
# The teacher checkpoint must exist locally, in this project's layout:
# train it with the teacher config, or convert the official one with
#   python tools/convert_official.py <official.pth> \
#       checkpoints/tokenpose_hrnet-w48_8xb64-300e_coco-256x192.pth
# or point elsewhere with --cfg-options model.teacher_ckpt=<path>.
_base_ = [
    './distilpose-s_stemnet_inference_coco-256x192.py',
    '../../_base_/distillation/distilpose_losses.py',
]

model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/coco/'
    'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py',
    teacher_ckpt='checkpoints/tokenpose_hrnet-w48_8xb64-300e_coco-256x192.pth',
    distill_losses=_base_.distill_losses)
