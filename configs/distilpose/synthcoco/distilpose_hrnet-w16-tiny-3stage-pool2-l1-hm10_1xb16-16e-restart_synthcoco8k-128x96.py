# The cheap DistilPose student's L1 warm restarts with a heavier
# simulated-heatmap term (weight 10 instead of 1), from the second L1
# restart's weights (docs/learning.md):
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0
#
# Why: after two L1 restarts the student's gap to its teacher is where its
# keypoints land; the simulated heatmap is the term that pulls each
# keypoint towards the teacher's peak, and a four-epoch probe with it ten
# times heavier was ahead of the plain L1 restart.
# Its baseline, which has no such term, continues the L1 restarts:
# td-reg_hrnet-w16-tiny-3stage-pool2-tde-l1_1xb16-16e-restart_...
_base_ = [
    './distilpose_hrnet-w16-tiny-3stage-pool2-l1_'
    '1xb16-16e-restart_synthcoco8k-128x96.py'
]

model = dict(distill_losses=dict(sim_heatmap=dict(loss_weight=10.0)))

load_from = ('model_zoo/synthcoco/experiments/distilpose_hrnet-w16-tiny-'
             '3stage-pool2-l1_1xb16-16e-restart2_synthcoco8k-128x96.pth')
