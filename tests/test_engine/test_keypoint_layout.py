"""Any keypoint set, and the frozen teacher under the runner: a 16-keypoint
layout (COCO without the nose, so the flip pairs
and skeleton differ from COCO's) trains and evaluates end to end, teacher
then student, with K taken from the config and the dataset metainfo."""
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, checkpoints, coco_dataset_info,
                          drop_keypoint_from_data, make_data, scalars,
                          tiny_config, without_keypoint, write_dataset_info)
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from distilpose.checkpoint import safe_torch_load

pytestmark = pytest.mark.usefixtures('one_thread')

K = 16


@pytest.fixture(scope='module')
def layout16(tmp_path_factory):
    root = tmp_path_factory.mktemp('k16')
    data = make_data(str(root / 'data'))
    drop_keypoint_from_data(data, 0)
    meta = write_dataset_info(without_keypoint(coco_dataset_info(), 'nose'),
                              str(root / 'coco16.py'))
    return data, meta


def train(kind, data, meta, work_dir, **kw):
    cfg = tiny_config(kind, data, work_dir, num_keypoints=K, metainfo=meta,
                      **kw)
    runner = build_runner(cfg)
    runner.train()
    assert checkpoints(work_dir) == ['epoch_1.pth']
    assert scalars(work_dir) and all(
        math.isfinite(r['loss']) for r in scalars(work_dir))
    (metrics, ) = scalars(work_dir, 'coco/AP')
    assert all(math.isfinite(metrics[k]) for k in ('coco/AP', 'coco/AR'))
    return runner


def test_16_keypoints_teacher_then_student(layout16, tmp_path):
    data, meta = layout16
    teacher_run = train('teacher', data, meta, str(tmp_path / 'teacher'))
    assert teacher_run.model.head.out_channels == K
    assert len(teacher_run.train_dataloader.dataset.metainfo['sigmas']) == K
    teacher_ckpt = str(tmp_path / 'teacher' / 'epoch_1.pth')
    saved = safe_torch_load(teacher_ckpt)
    assert saved['meta']['dataset_meta']['num_keypoints'] == K

    run = train('student', data, meta, str(tmp_path / 'student'),
                teacher_ckpt=teacher_ckpt)
    model = run.model
    assert model.head.num_joints == K and model.teacher.neck.num_keypoints == K

    # Item 4 under the runner: the teacher is not optimised and did not
    # change (parameters and BatchNorm statistics), though it ran.
    in_optimizer = {id(p) for group in run.optim_wrapper.param_groups
                    for p in group['params']}
    assert in_optimizer == {id(p) for p in model.parameters()}
    assert not in_optimizer & {id(p) for p in model.teacher.parameters()}
    assert not model.teacher.training
    after = model.teacher.state_dict()
    assert after.keys() == saved['state_dict'].keys()
    for key, value in saved['state_dict'].items():
        assert torch.equal(value, after[key]), key
    assert any('running_mean' in k for k in after)


def test_16_keypoint_student_inference(layout16, tmp_path):
    from mmpose.apis import init_model

    from distilpose.apis import inference_images
    data, meta = layout16
    cfg = tiny_config('baseline', data, str(tmp_path), num_keypoints=K,
                      metainfo=meta)
    model = init_model(cfg, None, device='cpu')
    assert model.dataset_meta['num_keypoints'] == K
    image = osp.join(data, 'val', sorted(os.listdir(osp.join(data,
                                                             'val')))[0])
    (result, ) = inference_images(model, [image], out_dir=str(tmp_path / 'v'))
    assert result.pred_instances.keypoints.shape == (1, K, 2)
    assert np.isfinite(result.pred_instances.keypoints).all()
    # COCO's metainfo on this model: refused before predicting.
    model.dataset_meta = parse_pose_metainfo(coco_dataset_info())
    with pytest.raises(ValueError, match='has 17 keypoints but the model'):
        inference_images(model, [image])
