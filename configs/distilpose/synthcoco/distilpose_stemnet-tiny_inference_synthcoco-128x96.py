# A StemNet DistilPose student on the generated people (CPU-sized), alone:
# for test, inference and export. A StemNet (32-channel stem, one
# Bottleneck), a 4-layer 96-dim token encoder on 4x3 patches of the 32x24
# map and the DistilPose head. Its training configs set the epochs:
#   distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py  (distilled)
#   td-reg_stemnet-tiny-tde_1xb16-8e_synthcoco-128x96.py  (baseline)
_base_ = [
    '../../_base_/models/topdown_tde_128x96.py',
    '../../_base_/datasets/synthcoco.py',
    '../../_base_/schedules/adam-cosine_synthcoco.py',
]

model = dict(
    backbone=dict(
        type='StemNet', stem_channels=32, out_channels=64, num_blocks=1),
    neck=dict(in_channels=64, depth=4),
    head=dict(_base_.distilpose_head, decoder=_base_.regression_codec))

# The training pipeline of both training configs (coordinates as targets).
train_dataloader = dict(
    dataset=dict(pipeline=_base_.regression_train_pipeline))
