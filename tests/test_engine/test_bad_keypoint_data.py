"""Bad keypoint values and annotation files without people: visibility
flags outside {0, 1, 2}, keypoints or boxes that are not finite, labelled
keypoints more than one image size outside their image, and files with no
person to train on are named per annotation (image and annotation id) with
counts per kind by ``tools/check_dataset.py`` and by DatasetCheckHook
before the first step. Training refuses them unless
``skip_bad_samples=True`` (which says how many samples it skipped); a file
without people is refused even then.

The data is written here: a few blank images and hand-made COCO files.
"""
import glob
import json
import math
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
from conftest import load_tool
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, scalars, tiny_config

from distilpose.datasets.coco_annotations import no_people_error
from distilpose.datasets.dataset_check import check_coco_dataset
from distilpose.runtime.hooks import DatasetCheckHook

K = 17
W, H = 64, 96  # every image
check_dataset_main = load_tool('check_dataset').main


def person(ann_id: int, image_id: int, **changes) -> dict:
    """A person annotation with all 17 keypoints labelled inside its box."""
    kpts = []
    for k in range(K):
        kpts += [10 + 2 * k, 20 + 3 * k, 2]
    ann = dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=0,
               bbox=[5, 10, 50, 80], area=4000, num_keypoints=K,
               keypoints=kpts)
    ann.update(changes)
    return ann


def set_keypoint(ann: dict, k: int, x=None, y=None, v=None) -> dict:
    for offset, value in enumerate((x, y, v)):
        if value is not None:
            ann['keypoints'][3 * k + offset] = value
    return ann


def write_split(root: str, split: str, annotations: list,
                num_images: int) -> str:
    """Blank images ``<root>/<split>/NNN.jpg`` and their annotation file
    ``<root>/annotations/person_keypoints_<split>.json``; returns it."""
    folder = osp.join(root, split)
    os.makedirs(folder, exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images = []
    for i in range(num_images):
        name = f'{i:03d}.jpg'
        cv2.imwrite(osp.join(folder, name), np.full((H, W, 3), 128,
                                                    np.uint8))
        images.append(dict(id=i, file_name=name, width=W, height=H))
    coco = dict(images=images, annotations=annotations,
                categories=[dict(id=1, name='person', supercategory='person',
                                 keypoints=[f'k{k}' for k in range(K)],
                                 skeleton=[])])
    path = osp.join(root, 'annotations', f'person_keypoints_{split}.json')
    with open(path, 'w') as f:
        json.dump(coco, f)  # NaN is written as JSON's NaN literal
    return path


def bad_values() -> list:
    """Six annotations on six images; 2, 3, 4 and 5 are bad."""
    return [
        person(1, 0),
        set_keypoint(set_keypoint(person(2, 1), 0, v=-1), 4, v=3),
        set_keypoint(person(3, 2), 5, x=float('nan')),
        person(4, 3, bbox=[5, 10, float('nan'), 80]),  # MMPose keeps it
        set_keypoint(person(5, 4), 7, x=W + W + 1),  # 2 sizes + 1 px right
        # Legitimately outside, within one image size: not reported.
        set_keypoint(set_keypoint(person(6, 5), 1, x=-W + 1), 2, y=2 * H),
    ]


@pytest.fixture
def bad_values_data(tmp_path):
    root = str(tmp_path / 'data')
    ann_file = write_split(root, 'train', bad_values(), 6)
    write_split(root, 'val', [person(1, 0), person(2, 1)], 2)
    return root, ann_file


def test_bad_keypoint_values_are_named_per_annotation_with_counts(
        bad_values_data):
    root, ann_file = bad_values_data
    problems = check_coco_dataset(ann_file, osp.join(root, 'train'))
    assert sorted((p.kind, p.file, p.ann_id) for p in problems) == [
        ('bad visibility flag', '001.jpg (annotation 2)', 2),
        ('keypoint far outside image', '004.jpg (annotation 5)', 5),
        ('non-finite box', '003.jpg (annotation 4)', 4),
        ('non-finite keypoint', '002.jpg (annotation 3)', 3),
    ]
    details = {p.kind: p.detail for p in problems}
    assert 'outside {0, 1, 2} at keypoints (index (flag)) 0 (-1), 4 (3)' \
        in details['bad visibility flag']
    assert '5 (nan, 35)' in details['non-finite keypoint']
    assert '7 (129, 41)' in details['keypoint far outside image']
    assert 'more than 1 image size outside the 64x96 image' in \
        details['keypoint far outside image']
    assert 'bbox [5, 10, nan, 80]' in details['non-finite box']


def test_unused_annotations_are_not_checked_for_keypoint_values(tmp_path):
    """Crowds, annotations of 0 keypoints and unlabelled keypoints are not
    trained on: their values do not matter."""
    anns = [person(1, 0),
            set_keypoint(person(2, 0, iscrowd=1), 0, x=float('nan'), v=-1),
            set_keypoint(person(3, 0, num_keypoints=0), 0, v=7),
            set_keypoint(person(4, 0), 3, x=10 * W, v=0)]
    ann_file = write_split(str(tmp_path), 'train', anns, 1)
    assert check_coco_dataset(ann_file, str(tmp_path / 'train')) == []


def test_the_tool_reports_bad_keypoint_values(bad_values_data, capsys):
    root, ann_file = bad_values_data
    assert check_dataset_main([ann_file, osp.join(root, 'train'),
                               '--workers', '1']) == 1
    out = capsys.readouterr().out
    assert (f'{ann_file}: 4 problems (1 bad visibility flag, 1 non-finite '
            'keypoint, 1 non-finite box, 1 keypoint far outside image)'
            ) in out
    assert 'bad visibility flag: 001.jpg (annotation 2):' in out
    assert 'no problems found' not in out


def _fake_runner(ann_file, img_dir, warnings=None):
    dataset = types.SimpleNamespace(
        ann_file=ann_file, data_prefix=dict(img=img_dir),
        metainfo=dict(num_keypoints=K))
    warn = pytest.fail if warnings is None else warnings.append
    return types.SimpleNamespace(
        train_dataloader=types.SimpleNamespace(dataset=dataset),
        logger=types.SimpleNamespace(warning=warn))


NO_PEOPLE = {
    'no annotations': ([], 2, 'it has no annotations (2 images listed)'),
    'no labelled keypoints': (
        [person(1, 0, num_keypoints=0, keypoints=[0, 0, 0] * K),
         person(2, 1, keypoints=[5, 5, 0] * K)], 2,
        'none of its 2 annotations is a person with labelled keypoints'),
    'only crowds': ([person(1, 0, iscrowd=1)], 1,
                    'none of its 1 annotations is a person'),
    'no images': ([], 0, 'it lists no images'),
}


@pytest.mark.parametrize('case', sorted(NO_PEOPLE))
def test_a_file_without_people_is_reported_by_the_tool(
        tmp_path, capsys, case):
    anns, num_images, why = NO_PEOPLE[case]
    ann_file = write_split(str(tmp_path), 'train', anns, num_images)
    assert check_dataset_main([ann_file, str(tmp_path / 'train'),
                               '--workers', '1']) == 1
    out = capsys.readouterr().out
    assert f'{ann_file}: 1 problems (1 no people)' in out
    assert f'no people to train on: {why}' in out
    assert 'person_keypoints_*.json' in out


@pytest.mark.parametrize('skip', [False, True])
def test_training_refuses_a_file_without_people_even_when_skipping(
        tmp_path, skip):
    anns, num_images, why = NO_PEOPLE['no labelled keypoints']
    ann_file = write_split(str(tmp_path), 'train', anns, num_images)
    runner = _fake_runner(ann_file, str(tmp_path / 'train'))
    with pytest.raises(ValueError) as err:
        DatasetCheckHook(skip_bad_samples=skip).before_train(runner)
    assert str(err.value).startswith(
        f'The train dataset {ann_file} has no people to train on: {why}')
    assert 'skip_bad_samples=True cannot help' in str(err.value)


def test_the_loader_error_for_a_file_without_people_names_it(tmp_path):
    """What MMPose's COCO loader can raise instead of MMEngine's "need at
    least one array to concatenate" on the empty dataset."""
    anns, num_images, why = NO_PEOPLE['no annotations']
    ann_file = write_split(str(tmp_path), 'train', anns, num_images)
    err = no_people_error(ann_file, [])
    assert str(err).startswith(f'The annotation file {ann_file} has no '
                               f'people to train on: {why}. Check that')
    assert no_people_error(ann_file, [dict(num_keypoints=3)]) is None


# ------------------------------------------------------- through training
@pytest.mark.usefixtures('one_thread')
def test_training_refuses_bad_keypoint_values_before_the_first_step(
        bad_values_data, tmp_path):
    root, ann_file = bad_values_data
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('baseline', root, work_dir, batch_size=2)
    with pytest.raises(ValueError) as err:
        build_runner(cfg).train()
    message = str(err.value)
    assert message.startswith(f'The train dataset {ann_file}: 4 problems')
    for named in ('001.jpg (annotation 2)', '002.jpg (annotation 3)',
                  '003.jpg (annotation 4)', '004.jpg (annotation 5)'):
        assert named in message
    assert 'Fix or remove these samples' in message
    assert 'skip_bad_samples=True' in message
    assert not glob.glob(osp.join(work_dir, '**', '*.pth'), recursive=True)


@pytest.mark.usefixtures('one_thread')
def test_skip_bad_samples_trains_without_bad_keypoint_values(
        bad_values_data, tmp_path):
    root, _ = bad_values_data
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('baseline', root, work_dir, batch_size=1)
    cfg.merge_from_dict({'custom_hooks.2.skip_bad_samples': True})
    runner = build_runner(cfg)
    runner.train()
    kept = runner.train_dataloader.dataset
    assert sorted(kept.get_data_info(i)['id']
                  for i in range(len(kept))) == [1, 6]
    (log, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(log) as f:
        text = f.read()
    assert ('skip_bad_samples=True: 4 of the 6 samples are skipped; '
            'training goes on with the other 2') in text
    losses = [r['loss'] for r in scalars(work_dir)]
    assert len(losses) == 2 and all(math.isfinite(x) and x >= 0
                                    for x in losses)


@pytest.mark.usefixtures('one_thread')
def test_training_on_a_file_without_people_is_refused_by_name(tmp_path):
    """Through the runner with default settings: MMEngine builds (and
    serialises) the dataset before any hook runs, so the loader says it."""
    root = str(tmp_path / 'data')
    anns, num_images, why = NO_PEOPLE['no labelled keypoints']
    ann_file = write_split(root, 'train', anns, num_images)
    write_split(root, 'val', [person(1, 0)], 1)
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('baseline', root, work_dir)
    cfg.merge_from_dict({'custom_hooks.2.skip_bad_samples': True})
    with pytest.raises(ValueError) as err:
        build_runner(cfg).train()
    assert f'{ann_file} has no people to train on: {why}' in str(err.value)
    assert not glob.glob(osp.join(work_dir, '**', '*.pth'), recursive=True)
