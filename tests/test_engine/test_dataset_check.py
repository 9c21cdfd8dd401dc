"""Bad data caught before training: each bad sample is reported with its
file, with counts, by the build-time hook and by
``tools/check_dataset.py``; a non-JSON annotation file is named; with
``skip_bad_samples=True`` training goes on without the bad samples.
Bad keypoint values and files without people: test_bad_keypoint_data.py.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import types

import cv2
import numpy as np
import pytest
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, make_data, tiny_config
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

from distilpose.checkpoint import safe_torch_load
from distilpose.datasets import load_annotation_file
from distilpose.datasets.dataset_check import (Problem, check_coco_dataset,
                                               format_report, samples_of)
from distilpose.runtime.hooks import DatasetCheckHook

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
K = 17


def _ann(id_, image_id, bbox, num_keypoints=K):
    return dict(id=id_, image_id=image_id, bbox=bbox, category_id=1,
                keypoints=[10, 10, 2] * num_keypoints, iscrowd=0,
                num_keypoints=num_keypoints)


@pytest.fixture
def bad_dataset(tmp_path):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    cv2.imwrite(str(img_dir / 'good.jpg'), np.zeros((40, 30, 3), np.uint8))
    (img_dir / 'empty.jpg').write_bytes(b'')
    (img_dir / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    names = ['good.jpg', 'empty.jpg', 'corrupt.jpg', 'missing.jpg']
    coco = dict(
        images=[dict(id=i, file_name=n, width=30, height=40)
                for i, n in enumerate(names)],
        annotations=[
            _ann(1, 0, [1, 1, 20, 30]),
            _ann(2, 0, [1, 1, 20, 30], num_keypoints=16),
            _ann(3, 0, [5, 5, 0, 10]),
            _ann(4, 0, [50, 5, 10, 10]),
        ],
        categories=[dict(id=1, name='person', keypoints=['k'] * K)])
    ann_file = tmp_path / 'train.json'
    ann_file.write_text(json.dumps(coco))
    return str(ann_file), str(img_dir)


def test_each_bad_sample_is_named_with_counts(bad_dataset):
    ann_file, img_dir = bad_dataset
    problems = check_coco_dataset(ann_file, img_dir)
    found = {(p.kind, osp.basename(p.file.split(' ')[0]))
             for p in problems}
    assert found == {('keypoint count', 'good.jpg'),
                     ('degenerate box', 'good.jpg'),
                     ('empty image', 'empty.jpg'),
                     ('missing image', 'missing.jpg')}
    report = format_report(problems, ann_file)
    assert report.splitlines()[0] == (
        f'{ann_file}: 5 problems (2 degenerate box, 1 keypoint count, '
        '1 empty image, 1 missing image)')
    assert 'good.jpg (annotation 2): 16 keypoints, the dataset has 17' \
        in report
    assert 'has no area' in report and 'outside the 30x40 image' in report


def test_decoding_finds_the_corrupt_image(bad_dataset):
    problems = check_coco_dataset(*bad_dataset, decode=True, workers=2)
    (corrupt, ) = [p for p in problems if p.kind == 'unreadable image']
    assert corrupt.file.endswith('corrupt.jpg')


def test_an_annotation_file_that_is_not_json_is_named(tmp_path):
    path = tmp_path / 'person_keypoints_train.json'
    path.write_text('{"images": [')
    with pytest.raises(ValueError, match=f'annotation file {path} is not '
                       'valid JSON'):
        load_annotation_file(str(path))


def _runner(ann_file, img_dir):
    dataset = types.SimpleNamespace(
        ann_file=ann_file, data_prefix=dict(img=img_dir),
        metainfo=dict(num_keypoints=K))
    return types.SimpleNamespace(
        train_dataloader=types.SimpleNamespace(dataset=dataset),
        logger=types.SimpleNamespace(warning=pytest.fail))


def test_training_refuses_missing_images_and_wrong_keypoints(bad_dataset):
    with pytest.raises(ValueError) as err:
        DatasetCheckHook().before_train(_runner(*bad_dataset))
    message = str(err.value)
    assert '3 problems (1 keypoint count, 1 empty image, 1 missing ' \
        'image)' in message
    assert 'missing.jpg' in message and 'tools/check_dataset.py' in message


def test_degenerate_boxes_alone_are_a_warning(bad_dataset, tmp_path):
    ann_file, img_dir = bad_dataset
    coco = json.load(open(ann_file))
    coco['images'] = coco['images'][:1]
    del coco['annotations'][1]
    ann_file = str(tmp_path / 'boxes.json')
    json.dump(coco, open(ann_file, 'w'))
    warned = []
    runner = _runner(ann_file, img_dir)
    runner.logger = types.SimpleNamespace(warning=warned.append)
    DatasetCheckHook().before_train(runner)
    (message, ) = warned
    assert '2 problems (2 degenerate box)' in message
    assert 'MMPose drops boxes without area' in message


def test_the_tool_reports_and_fails(bad_dataset):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'check_dataset.py'),
         *bad_dataset, '--workers', '2'],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert '6 problems' in proc.stdout
    assert 'unreadable image' in proc.stdout and 'corrupt.jpg' in proc.stdout
    assert 'decoded 4/4 images' in proc.stderr


# ----------------------------------------------------------- skipping
@pytest.fixture
def toy_with_bad_samples(tmp_path):
    """The toy dataset with one training image deleted and, on another
    image, one annotation (not the first) of 16 keypoints; returns (data
    root, the missing image's path, the bad annotation's id)."""
    root = make_data(str(tmp_path / 'data'))
    path = osp.join(root, 'annotations', 'person_keypoints_train.json')
    with open(path) as f:
        coco = json.load(f)
    gone = coco['images'][1]
    missing = osp.join(root, 'train', gone['file_name'])
    os.remove(missing)
    bad = [a for a in coco['annotations'][1:]
           if a['image_id'] != gone['id'] and a['num_keypoints'] > 0][0]
    bad['keypoints'] = bad['keypoints'][:-3]
    with open(path, 'w') as f:
        json.dump(coco, f)
    return root, missing, bad['id']


def test_the_documented_option_sets_skip_bad_samples():
    """``--cfg-options custom_hooks.2.skip_bad_samples=True``, as
    docs/reliability.md gives it."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_',
                                   'default_runtime.py'))
    cfg.merge_from_dict({'custom_hooks.2.skip_bad_samples': True})
    assert cfg.custom_hooks[2] == dict(type='DatasetCheckHook',
                                       skip_bad_samples=True)


@pytest.mark.usefixtures('one_thread')
def test_training_refuses_bad_samples_by_default(toy_with_bad_samples,
                                                 tmp_path):
    root, _, bad_id = toy_with_bad_samples
    work_dir = str(tmp_path / 'work')
    with pytest.raises(ValueError) as err:
        build_runner(tiny_config('baseline', root, work_dir)).train()
    assert f'annotation id {bad_id}' in str(err.value)
    assert 'Fix or remove' in str(err.value)
    assert not glob.glob(osp.join(work_dir, '*.pth'))


def _log_of(work_dir: str) -> str:
    (log, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(log) as f:
        return f.read()


@pytest.mark.usefixtures('one_thread')
def test_skip_bad_samples_trains_without_them(toy_with_bad_samples,
                                              tmp_path):
    root, missing, bad_id = toy_with_bad_samples
    work_dir = str(tmp_path / 'work')
    # Batch 1: one iteration per sample, so the epoch shows what was kept.
    cfg = tiny_config('baseline', root, work_dir, batch_size=1)
    cfg.merge_from_dict({'custom_hooks.2.skip_bad_samples': True})
    init_default_scope('mmpose')
    full = DATASETS.build(cfg.train_dataloader.dataset)
    infos = [full.get_data_info(i) for i in range(len(full))]
    dropped = {info['id'] for info in infos
               if info['img_path'] == missing or info['id'] == bad_id}
    assert len(dropped) >= 2  # the missing image has people too

    runner = build_runner(cfg)
    runner.train()
    kept = runner.train_dataloader.dataset
    kept_ids = {kept.get_data_info(i)['id'] for i in range(len(kept))}
    assert kept_ids == {info['id'] for info in infos} - dropped
    ckpt = safe_torch_load(osp.join(work_dir, 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == len(kept) == runner.max_iters
    log = _log_of(work_dir)
    assert '2 problems (1 keypoint count, 1 missing image)' in log
    assert (f'skip_bad_samples=True: {len(dropped)} of the {len(full)} '
            f'samples are skipped; training goes on with the other '
            f'{len(kept)}') in log


class _Samples(list):
    """A dataset's samples (``get_data_info``), nothing else."""

    def get_data_info(self, index):
        return self[index]


def test_the_samples_of_each_problem_are_found():
    problems = [
        Problem('missing image', '/d/a.jpg', 'no such file',
                image='/d//a.jpg'),
        Problem('keypoint count', 'b.jpg (annotation 7)', '16 keypoints',
                ann_id=7),
    ]
    samples = _Samples([
        dict(id=1, img_path='/d/a.jpg'), dict(id=2, img_path='/d/a.jpg'),
        dict(id=7, img_path='/d/b.jpg'), dict(id=8, img_path='/d/b.jpg'),
        dict(id=[9, 7], img_path='/d/c.jpg'),  # bottom-up: every person
        dict(id=[10], img_path='/d/e.jpg')])
    assert samples_of(samples, problems) == [0, 1, 2, 4]


def test_skipping_every_sample_is_refused(bad_dataset):
    ann_file, img_dir = bad_dataset
    runner = _runner(ann_file, img_dir)
    dataset = _Samples([dict(id=2, img_path=osp.join(img_dir, 'good.jpg')),
                        dict(id=5, img_path=osp.join(img_dir, 'empty.jpg'))])
    vars(dataset).update(vars(runner.train_dataloader.dataset))
    runner.train_dataloader.dataset = dataset
    with pytest.raises(ValueError, match='would skip all 2 samples: '
                       'nothing is left to train on'):
        DatasetCheckHook(skip_bad_samples=True).before_train(runner)
