# DistilPose-L training: the 3-stage HRNet-W48 student distilled from the
# TokenPose HRNet-W48 teacher. As in the official code, the student backbone
# starts from the teacher's HRNet stages 1-3.
_base_ = [
    './distilpose-s_stemnet_8xb32-300e_coco-256x192.py',
    '../../_base_/backbones/hrnet-w48-3stage.py',
]

model = dict(
    backbone={{_base_.hrnet_w48_3stage}},
    neck=dict(in_channels=48),
    init_backbone_from_teacher=True)
