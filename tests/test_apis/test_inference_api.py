"""The student inference config works with MMPose's inference API."""
import json
import os.path as osp

import numpy as np
import pytest
from conftest import PARITY, SHARED, config_path, require_parity_fixtures

S_INFER = 'distilpose/coco/distilpose-s_stemnet_inference_coco-256x192.py'
SAMPLE = osp.join(SHARED, 'data', 'coco-sample')


@pytest.fixture(scope='module')
def student_ckpt(tmp_path_factory):
    require_parity_fixtures()
    from distilpose.convert import convert_official
    dst = str(tmp_path_factory.mktemp('ckpt') / 'distilpose_s.pth')
    convert_official(osp.join(PARITY, 'distilpose_s_official.pth'), dst)
    return dst


def test_init_model_and_inference_topdown(student_ckpt):
    if not osp.isdir(SAMPLE):
        pytest.skip(f'COCO sample images not found at {SAMPLE}')
    from mmpose.apis import inference_topdown, init_model
    with open(osp.join(SAMPLE, 'test_coco.json')) as f:
        coco = json.load(f)
    image = coco['images'][0]
    boxes = np.array([a['bbox'] for a in coco['annotations']
                      if a['image_id'] == image['id']], dtype=np.float32)
    boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
    model = init_model(config_path(S_INFER), student_ckpt, device='cpu')
    assert not hasattr(model, 'teacher')
    results = inference_topdown(model,
                                osp.join(SAMPLE, image['file_name']),
                                bboxes=boxes, bbox_format='xyxy')
    assert len(results) == len(boxes)
    for box, result in zip(boxes, results):
        kpts = result.pred_instances.keypoints[0]
        scores = result.pred_instances.keypoint_scores[0]
        assert kpts.shape == (17, 2) and scores.shape == (17, )
        assert np.isfinite(kpts).all()
        # The random-weight fixture predicts near the box centre.
        centre = (box[:2] + box[2:]) / 2
        assert (np.abs(kpts - centre) < (box[2:] - box[:2])).all()
        # Scores come from the score channel, not RegressionLabel's ones.
        assert not np.allclose(scores, 1.0)
