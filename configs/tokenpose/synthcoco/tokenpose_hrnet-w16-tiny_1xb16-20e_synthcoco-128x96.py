# The demo's TokenPose teacher on the demo-size HRNet instead of the StemNet
# (the paper's teacher is TokenPose on HRNet-W48): the same 6-layer 96-dim
# token encoder on 4x3 patches of the 32x24 map, so that the demo student's
# tokens can be distilled from it.
#
# As the official TokenPose starts from a pretrained HRNet, the backbone
# starts from the trained HRNet heatmap model of the model zoo
# (configs/topdown_heatmap/synthcoco/), read from the local file.
_base_ = [
    './tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py',
    '../../_base_/backbones/hrnet-w16-tiny.py',
]

max_epochs = 20
model = dict(
    backbone=dict(
        _base_.hrnet_w16_tiny,
        _delete_=True,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='model_zoo/synthcoco/'
            'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth')),
    neck=dict(in_channels=16))

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [_base_.warmup, dict(_base_.cosine, end=max_epochs)]
