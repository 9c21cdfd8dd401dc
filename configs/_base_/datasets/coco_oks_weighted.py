# COCO's 17 keypoints with per-keypoint loss weights that follow the
# metric: COCO's OKS divides each keypoint's error by its sigma, so a pixel
# off on the nose costs four times a pixel off on a hip. The weights are
# 1 / sigma, scaled to a mean of 1 (the loss keeps its size).
# A training pipeline applies them with
# ``dict(type='GenerateTarget', ..., use_dataset_keypoint_weights=True)``
# and its dataset with ``metainfo=dict(from_file=<this file>)``; the
# sigmas, names and flip pairs are COCO's.
_base_ = ['mmpose::_base_/datasets/coco.py']

dataset_info = dict(
    dataset_name='coco_oks_weighted',
    joint_weights=[
        2.01, 2.09, 2.09, 1.49, 1.49, 0.66, 0.66, 0.73, 0.73, 0.84, 0.84,
        0.49, 0.49, 0.60, 0.60, 0.59, 0.59
    ])
