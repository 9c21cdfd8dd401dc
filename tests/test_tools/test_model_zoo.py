"""The model zoo: metafiles parse, shipped files match their sha256, and the
shipped generated-data models load and work through MMPose's APIs."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import ROOT

from distilpose.fileio import sha256sum

modelindex = pytest.importorskip('modelindex')


def zoo_models():
    return modelindex.load(osp.join(ROOT, 'model-index.yml')).models


def shipped():
    return [m for m in zoo_models() if m.weights]


def test_metafiles_parse_and_name_existing_configs():
    models = zoo_models()
    names = [m.name for m in models]
    assert len(names) == len(set(names)), names
    for m in models:
        assert osp.isfile(osp.join(ROOT, m.config)), m.config
        assert m.results and 'AP' in m.results[0].metrics, m.name
        ap = m.results[0].metrics['AP']
        assert 0 <= ap <= 1, (m.name, ap)
        meta = m.metadata.data
        for key in ('Training Config', ):
            if key in meta:
                assert osp.isfile(osp.join(ROOT, meta[key])), meta[key]


def test_shipped_files_exist_with_their_sha256():
    models = shipped()
    assert {m.name.split('_')[0] for m in models} >= {
        'td-hm', 'tokenpose', 'distilpose', 'td-reg'}
    for m in models:
        meta = m.metadata.data
        path = osp.join(ROOT, m.weights)
        assert osp.isfile(path), path
        assert sha256sum(path) == meta['SHA256'], path
        assert osp.isfile(osp.join(ROOT, meta['Training Log'])), m.name
        assert 'Training Command' in meta, m.name
        # Weights only: loads without any allow-listed globals.
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
        assert set(ckpt) == {'state_dict', 'meta'}


def test_experiment_weights_match_their_checksum_list():
    """The learning study's weights (not in the zoo) are listed with their
    sha256 in SHA256SUMS beside them (``sha256sum -c`` reads it), each one
    with its training logs."""
    folder = osp.join(ROOT, 'model_zoo', 'synthcoco', 'experiments')
    with open(osp.join(folder, 'SHA256SUMS')) as f:
        listed = dict(reversed(line.split()) for line in f if line.strip())
    weights = {n for n in os.listdir(folder) if n.endswith('.pth')}
    assert set(listed) == weights, set(listed) ^ weights
    for name, digest in listed.items():
        path = osp.join(folder, name)
        assert sha256sum(path) == digest, name
        for log in ('.log', '.log.json'):
            assert osp.isfile(path[:-len('.pth')] + log), (name, log)


@pytest.fixture(scope='module')
def val_data(tmp_path_factory):
    """A small generated val set of a seed the models were not trained on
    (training used seed 0)."""
    from synthetic_coco import generate_dataset
    root = str(tmp_path_factory.mktemp('synthcoco_seed1'))
    generate_dataset(root, num_train_images=0, num_val_images=48, seed=1,
                     workers=0, progress=False)
    return root


def evaluate(config, checkpoint, data_root, work_dir):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(osp.join(ROOT, config))
    ann = osp.join(data_root, 'annotations', 'person_keypoints_val.json')
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = data_root + '/'
    cfg.test_evaluator = [
        dict(type='CocoMetric', ann_file=ann),
        dict(type='PCKAccuracy', thr=0.2, norm_item='bbox')
    ]
    cfg.load_from = osp.join(ROOT, checkpoint)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'zoo_{osp.basename(config)}'
    cfg.visualizer.name = cfg.experiment_name
    return Runner.from_cfg(cfg).test()


@pytest.mark.parametrize('name', [m.name for m in shipped()])
def test_shipped_model_evaluates_above_its_floor(name, val_data, tmp_path):
    """Each shipped model loads strictly and, on 48 unseen generated images
    (seed 1), reaches its metafile figures (measured on 200 such images)
    within what 48 images can differ: 0.1 AP, 0.05 PCK@0.2."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from distilpose.checkpoint import load_state_dict_strictly, read_state_dict
    (model, ) = [m for m in shipped() if m.name == name]
    init_default_scope('mmpose')
    net = MODELS.build(Config.fromfile(osp.join(ROOT, model.config)).model)
    load_state_dict_strictly(net, read_state_dict(
        osp.join(ROOT, model.weights)), source=model.weights)
    metrics = evaluate(model.config, model.weights, val_data, str(tmp_path))
    expected = model.results[0].metrics
    assert metrics['coco/AP'] > expected['AP'] - 0.1, (name, metrics)
    assert metrics['PCK'] > expected['PCK@0.2'] - 0.05, (name, metrics)


@pytest.mark.parametrize(
    'name', [m.name for m in shipped() if m.name.startswith('distilpose')])
def test_student_through_mmpose_inferencer(name, val_data):
    """Each shipped student works with ``MMPoseInferencer(pose2d=<config>,
    pose2d_weights=<file>)``: on an unseen generated image its keypoints
    are those of ``init_model`` + ``inference_topdown`` with the same
    (whole-image) box."""
    import json

    from mmpose.apis import MMPoseInferencer, inference_topdown, init_model
    (model, ) = [m for m in shipped() if m.name == name]
    config, weights = (osp.join(ROOT, p) for p in (model.config,
                                                   model.weights))
    with open(osp.join(val_data, 'annotations',
                       'person_keypoints_val.json')) as f:
        image = json.load(f)['images'][0]
    path = osp.join(val_data, 'val', image['file_name'])
    box = np.array([[0, 0, image['width'], image['height']]],
                   dtype=np.float32)

    net = init_model(config, weights, device='cpu')
    (result, ) = inference_topdown(net, path, bboxes=box)
    expected = result.pred_instances.keypoints[0]

    inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=weights,
                                  det_model='whole_image', device='cpu')
    out = next(inferencer(path, return_vis=False))
    kpts = np.array(out['predictions'][0][0]['keypoints'])
    assert kpts.shape == (17, 2) and np.isfinite(kpts).all()
    np.testing.assert_allclose(kpts, expected, atol=1e-3)
