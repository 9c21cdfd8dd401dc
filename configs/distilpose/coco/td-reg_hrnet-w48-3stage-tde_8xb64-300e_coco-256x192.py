# Regression baseline of DistilPose-L: 3-stage HRNet-W48 + token encoder +
# regression head, coordinate loss only (official "hr48_3stage_coco_256x192").
_base_ = [
    './td-reg_stemnet-tde_8xb64-300e_coco-256x192.py',
    '../../_base_/backbones/hrnet-w48-3stage.py',
]

# The StemNet backbone dict has only `type`, so this merge replaces it.
model = dict(backbone={{_base_.hrnet_w48_3stage}}, neck=dict(in_channels=48))
