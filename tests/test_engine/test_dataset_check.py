"""Bad data caught before training (issue 12, item 3): each bad sample is
reported with its file, with counts, by the build-time hook and by
``tools/check_dataset.py``; a non-JSON annotation file is named."""
import json
import os.path as osp
import subprocess
import sys
import types

import cv2
import numpy as np
import pytest

from distilpose.engine.dataset_check import (DatasetCheckHook,
                                             check_coco_dataset, format_report,
                                             load_annotation_file)

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
