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
_base_ = ['./distilpose-s_stemnet_inference_coco-256x192.py']

# model settings: the student of the base config, distilled with the
# paper's four terms and official weights
model = dict(
    type='DistilPoseDistiller',
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
