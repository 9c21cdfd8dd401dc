# The demo's DistilPose student distilled from an MMPose heatmap model (the
# demo-size HRNet of configs/topdown_heatmap/synthcoco/) instead of the
# TokenPose teacher: the same student, data and budget, its HRNet stages
# started from this teacher's, with the two heatmap terms only (a teacher
# without a token encoder has no tokens to distil). The simulated heatmaps
# are drawn in the teacher's MSRA frame.
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# model settings: the student of the base config and its frozen teacher
model = dict(
    type='DistilPoseDistiller',
    teacher_cfg='{{fileDirname}}/../../topdown_heatmap/synthcoco/'
    'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py',
    teacher_ckpt='model_zoo/synthcoco/'
    'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth',
    init_backbone_from_teacher=True,
    distill_losses=dict(
        sim_heatmap=dict(
            type='SimulatedHeatmapLoss',
            reduction_mode='masked',
            loss_weight=1.0),
        score=dict(type='ScoreDistilLoss', loss_weight=0.01)))
