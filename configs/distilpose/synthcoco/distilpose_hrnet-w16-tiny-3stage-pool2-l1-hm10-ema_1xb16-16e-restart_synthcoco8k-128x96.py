# The heavier simulated-heatmap restart with an exponential moving average
# of the weights (MMEngine's EMAHook with MMPose's ExpMomentumEMA, as the
# RTMPose configs use it), from the first such restart's weights; the
# validation and the saved weights are the average's (docs/learning.md):
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0
#
# Why: the restarts' returns shrink while the validation AP still moves
# by about 0.01 from epoch to epoch; an average of the late weights is the
# usual way to keep the best of that noise.
_base_ = [
    './distilpose_hrnet-w16-tiny-3stage-pool2-l1-hm10_'
    '1xb16-16e-restart_synthcoco8k-128x96.py'
]

custom_hooks = _base_.custom_hooks + [
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0002,
        update_buffers=True,
        priority=49)
]

load_from = ('model_zoo/synthcoco/experiments/distilpose_hrnet-w16-tiny-'
             '3stage-pool2-l1-hm10_1xb16-16e-restart_synthcoco8k-128x96.pth')
