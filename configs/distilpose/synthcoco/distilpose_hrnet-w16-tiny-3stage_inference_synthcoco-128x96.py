# The demo's DistilPose student on the generated people, alone (for test,
# inference and export): stages 1-3 of the demo-size HRNet (as DistilPose-L
# is DistilPose-S on HRNet-W48 stages), a 4-layer 96-dim token encoder on
# 4x3 patches of the 32x24 map and the DistilPose head. Its training configs:
#   distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.py (distilled)
#   td-reg_hrnet-w16-tiny-3stage-tde_1xb16-8e_synthcoco-128x96.py (baseline)
_base_ = [
    '../../_base_/models/topdown_tde_128x96.py',
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
    '../../_base_/backbones/hrnet-w16-tiny.py',
]

model = dict(
    backbone=_base_.hrnet_w16_tiny_3stage,
    neck=dict(in_channels=16, depth=4),
    head=dict(_base_.distilpose_head, decoder=_base_.regression_codec))

train_dataloader = dict(
    dataset=dict(pipeline=_base_.regression_train_pipeline))
