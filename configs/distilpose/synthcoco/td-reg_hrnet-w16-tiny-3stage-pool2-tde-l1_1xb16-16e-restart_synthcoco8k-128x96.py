# The cheap student's regression baseline on the same L1 warm restarts
# (distilpose_hrnet-w16-tiny-3stage-pool2-l1_1xb16-16e-restart_...), from
# its third SmoothL1 restart's weights:
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0
_base_ = [
    './td-reg_hrnet-w16-tiny-3stage-pool2-tde_'
    '1xb16-16e-restart_synthcoco8k-128x96.py'
]

model = dict(head=dict(loss=dict(type='L1Loss', use_target_weight=True)))

load_from = ('model_zoo/synthcoco/experiments/td-reg_hrnet-w16-tiny-'
             '3stage-pool2-tde_1xb16-16e-restart3_synthcoco8k-128x96.pth')
