# DistilPose-S distilled from MMPose's ViTPose-B heatmap model
# (td-hm_ViTPose-base_8xb64-210e_coco-256x192, COCO val AP 0.757). ViTPose
# uses the UDP codec, so the student's crops use the UDP affine (the teacher
# runs on the student's batch) and the simulated heatmaps are drawn in the
# UDP frame, x * (48 - 1) / (192 - 1), which the distiller takes from the
# teacher's codec. Heatmap terms only, as for any non-TokenPose teacher.
#
# Needs mmpretrain (ViTPose's backbone is mmpretrain.VisionTransformer):
#   pip install mmpretrain
# teacher_ckpt: see the HRNet-W48 variant of this config, which this one
# changes only in its teacher and crops.
_base_ = [
    './distilpose-s_stemnet_td-hm-hrnet-w48-teacher_8xb32-300e_coco-256x192.py'
]

model = dict(
    teacher_cfg='mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_ViTPose-base_8xb64-210e_coco-256x192.py',
    teacher_ckpt='https://download.openmmlab.com/mmpose/v1/'
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_ViTPose-base_8xb64-210e_coco-256x192-216eae50_20230314.pth')


def _udp(pipeline):
    return [
        dict(t, use_udp=True) if t['type'] == 'TopdownAffine' else t
        for t in pipeline
    ]


train_dataloader = dict(
    dataset=dict(pipeline=_udp(_base_.train_dataloader.dataset.pipeline)))
val_dataloader = dict(
    dataset=dict(pipeline=_udp(_base_.val_dataloader.dataset.pipeline)))
test_dataloader = val_dataloader
