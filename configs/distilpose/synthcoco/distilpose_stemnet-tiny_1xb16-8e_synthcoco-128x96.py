# A StemNet DistilPose student distilled from the StemNet TokenPose teacher
# on the generated people, with the official recipe's terms and weights: the
# tests' small distiller. Trained from scratch for 8 epochs it stays at the
# mean pose (docs/demo.md); the demo uses the HRNet student.
# The teacher checkpoint is what `mim train mmpose <teacher config>` writes.
_base_ = ['./distilpose_stemnet-tiny_inference_synthcoco-128x96.py']

# model settings: the student of the base config and its frozen teacher
model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../tokenpose/synthcoco/'
    'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py',
    teacher_ckpt='work_dirs/tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96/'
    'epoch_30.pth',
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
