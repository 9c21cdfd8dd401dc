# The cheap DistilPose student's warm restarts with an L1 coordinate loss:
# the restart schedule (16 epochs, cosine from lr 5e-4) from the third
# SmoothL1 restart's weights (docs/learning.md):
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0
#
# Why L1: on coordinates normalised to [0, 1] SmoothL1 (beta 1) is half the
# squared error, whose gradient fades with the error; L1 keeps pulling
# keypoints that are already close, where the student loses its AP.
# Its baseline: td-reg_hrnet-w16-tiny-3stage-pool2-tde-l1_1xb16-16e-restart_...
_base_ = [
    './distilpose_hrnet-w16-tiny-3stage-pool2_'
    '1xb16-16e-restart_synthcoco8k-128x96.py'
]

model = dict(head=dict(loss=dict(type='L1Loss', use_target_weight=True)))

load_from = ('model_zoo/synthcoco/experiments/distilpose_hrnet-w16-tiny-'
             '3stage-pool2_1xb16-16e-restart3_synthcoco8k-128x96.pth')
