# The demo's DistilPose student on the generated people, alone (for test,
# inference and export): the StemNet student's token encoder and head on
# stages 1-3 of the demo-size HRNet, as DistilPose-L is DistilPose-S on
# HRNet-W48 stages. Its training configs:
#   distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.py (distilled)
#   td-reg_hrnet-w16-tiny-3stage-tde_1xb16-8e_synthcoco-128x96.py (baseline)
_base_ = [
    './distilpose_stemnet-tiny_inference_synthcoco-128x96.py',
    '../../_base_/backbones/hrnet-w16-tiny.py',
]

model = dict(
    backbone=dict(_base_.hrnet_w16_tiny_3stage, _delete_=True),
    neck=dict(in_channels=16))
