# DistilPose-L training (official recipe: 8 GPUs x 32, 300 epochs)
#   student: distilpose-l_hrnet-w48-3stage_inference_coco-256x192 (below)
#   teacher: tokenpose_hrnet-w48_8xb64-300e_coco-256x192 (frozen)
# As in the official code, the student backbone starts from the teacher's
# HRNet stages 1-3. The teacher checkpoint: see the DistilPose-S config.
_base_ = [
    './distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py',
    '../../_base_/distillation/distilpose_losses.py',
]

model = dict(
    type='DistilPoseDistiller',
    init_backbone_from_teacher=True,
    teacher_cfg='{{fileDirname}}/../../tokenpose/coco/'
    'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py',
    teacher_ckpt='checkpoints/tokenpose_hrnet-w48_8xb64-300e_coco-256x192.pth',
    distill_losses=_base_.distill_losses)
