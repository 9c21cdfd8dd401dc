# DistilPose-S distilled from MMPose's own HRNet-W48 heatmap model
# (td-hm_hrnet-w48_8xb32-210e_coco-256x192, COCO val AP 0.756) instead of a
# TokenPose teacher. Only the heatmap terms apply: the simulated heatmaps
# are drawn, and the score looked up, in the teacher's MSRA frame (48x64);
# the token terms need a TokenPose teacher and are refused without one.
#
# teacher_ckpt is the ordinary MMPose checkpoint. Nothing downloads at run
# time: fetch it once into torch's hub cache (where MMEngine looks for a
# URL), or give a local path with --cfg-options model.teacher_ckpt=<path>.
_base_ = ['./distilpose-s_stemnet_8xb32-300e_coco-256x192.py']

model = dict(
    teacher_cfg='mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrnet-w48_8xb32-210e_coco-256x192.py',
    teacher_ckpt='https://download.openmmlab.com/mmpose/v1/'
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrnet-w48_8xb32-210e_coco-256x192-0e67c616_20220913.pth',
    distill_losses=dict(_delete_=True, **_base_.heatmap_distill_losses))
