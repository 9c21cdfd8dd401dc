# DistilPose-L training (official recipe: 8 GPUs x 32, 300 epochs)
#   student: distilpose-l_hrnet-w48-3stage_inference_coco-256x192 (below)
#   teacher: tokenpose_hrnet-w48_8xb64-300e_coco-256x192 (frozen)
# As in the official code, the student backbone starts from the teacher's
# HRNet stages 1-3. The teacher checkpoint: see the DistilPose-S config.
_base_ = ['./distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py']

# model settings: the student of the base config, distilled with the
# paper's four terms and official weights
model = dict(
    type='DistilPoseDistiller',
    init_backbone_from_teacher=True,
    teacher_cfg='{{fileDirname}}/../../tokenpose/coco/'
    'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py',
    teacher_ckpt='checkpoints/tokenpose_hrnet-w48_8xb64-300e_coco-256x192.pth',
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
