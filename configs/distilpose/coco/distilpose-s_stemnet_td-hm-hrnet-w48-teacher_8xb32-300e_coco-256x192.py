# DistilPose-S distilled from MMPose's own HRNet-W48 heatmap model
# (td-hm_hrnet-w48_8xb32-210e_coco-256x192, COCO val AP 0.756) instead of a
# TokenPose teacher. Only the heatmap terms apply: the simulated heatmaps
# are drawn, and the score looked up, in the teacher's MSRA frame (48x64);
# the token terms need a TokenPose teacher and are refused without one.
#
# teacher_ckpt is the ordinary MMPose checkpoint. Nothing downloads at run
# time: fetch it once into torch's hub cache (where MMEngine looks for a
# URL), or give a local path with --cfg-options model.teacher_ckpt=<path>.
_base_ = ['./distilpose-s_stemnet_inference_coco-256x192.py']

# model settings: the student of the base config with the two terms any
# heatmap teacher supports, in the frame of the teacher's codec
model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrnet-w48_8xb32-210e_coco-256x192.py',
    teacher_ckpt='https://download.openmmlab.com/mmpose/v1/'
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrnet-w48_8xb32-210e_coco-256x192-0e67c616_20220913.pth',
    distill_losses=dict(
        sim_heatmap=dict(
            type='SimulatedHeatmapLoss',
            reduction_mode='masked',
            loss_weight=1.0),
        score=dict(type='ScoreDistilLoss', loss_weight=0.01)))
