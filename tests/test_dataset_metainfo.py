"""The project's dataset metainfo files: COCO's keypoints with loss
weights that follow COCO's OKS."""
import os.path as osp

import numpy as np
from conftest import ROOT
from mmpose.datasets.datasets.utils import parse_pose_metainfo


def test_oks_weighted_coco_weights_follow_the_sigmas():
    path = osp.join(ROOT, 'configs', '_base_', 'datasets',
                    'coco_oks_weighted.py')
    meta = parse_pose_metainfo(dict(from_file=path))
    # A relative path that is not here MMPose reads from its own package.
    coco = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/'
                                    'coco.py'))
    # Everything but the weights is COCO's, so CocoMetric scores alike.
    np.testing.assert_array_equal(meta['sigmas'], coco['sigmas'])
    assert meta['flip_indices'] == coco['flip_indices']
    assert meta['keypoint_id2name'] == coco['keypoint_id2name']
    weights = meta['dataset_keypoint_weights']
    inverse = 1 / meta['sigmas']
    np.testing.assert_allclose(
        weights, inverse / inverse.mean(), atol=0.006)
    assert abs(weights.mean() - 1) < 0.01
