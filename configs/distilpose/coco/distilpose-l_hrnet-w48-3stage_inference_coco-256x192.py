# DistilPose-L, the student alone (no teacher): DistilPose-S with stages
# 1-3 of HRNet-W48 as its backbone. For test, inference and export; trained
# with distilpose-l_hrnet-w48-3stage_8xb32-300e_coco-256x192.
_base_ = [
    './distilpose-s_stemnet_inference_coco-256x192.py',
    '../../_base_/backbones/hrnet-w48.py',
]

model = dict(
    backbone=dict(_base_.hrnet_w48_3stage, _delete_=True),
    neck=dict(in_channels=48))
