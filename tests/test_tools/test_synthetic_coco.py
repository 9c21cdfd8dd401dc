"""The synthetic COCO generator writes valid, deterministic COCO data."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from synthetic_coco import (COCO_FLIP_PAIRS, COCO_KEYPOINTS, generate_dataset,
                            render_image)
from xtcocotools.coco import COCO as XtCOCO

# Not square, so that swapped axes show.
SIZE = (160, 128)
SPLITS = ('train', 'val')
# As in COCO's person_keypoints_val2017.json.
COCO_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]
COCO_LINKS = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
              [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
              [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]


def ann_file(root, split):
    return osp.join(root, 'annotations', f'person_keypoints_{split}.json')


def load(root, split):
    with open(ann_file(root, split)) as f:
        return json.load(f)


def keypoints(ann):
    return np.array(ann['keypoints'], float).reshape(-1, 3)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_coco'))
    summary = generate_dataset(root, num_train_images=40, num_val_images=8,
                               seed=1, image_size=SIZE, workers=0,
                               progress=False)
    return root, summary


def test_loads_with_coco_apis(dataset):
    root, _ = dataset
    for split in SPLITS:
        for api in (COCO, XtCOCO):
            coco = api(ann_file(root, split))
            assert coco.getAnnIds(catIds=[1])
            assert coco.loadCats(1)[0]['name'] == 'person'
        for image in load(root, split)['images']:
            assert set(image) == {'id', 'file_name', 'width', 'height'}
            assert image['file_name'] == f'{image["id"]:012d}.jpg'
            assert (image['width'], image['height']) == SIZE
            pixels = cv2.imread(osp.join(root, split, image['file_name']))
            assert pixels.shape == (SIZE[1], SIZE[0], 3)


def test_category_is_cocos(dataset):
    root, _ = dataset
    for split in SPLITS:
        (category, ) = load(root, split)['categories']
        assert category['id'] == 1
        assert category['supercategory'] == 'person'
        assert category['keypoints'] == COCO_NAMES
        assert category['skeleton'] == COCO_LINKS
    assert list(COCO_KEYPOINTS) == COCO_NAMES
    for left, right in COCO_FLIP_PAIRS:
        assert COCO_NAMES[left] == COCO_NAMES[right].replace('right', 'left')


def test_annotations_follow_coco_conventions(dataset):
    root, _ = dataset
    width, height = SIZE
    for split in SPLITS:
        for ann in load(root, split)['annotations']:
            assert ann['category_id'] == 1 and ann['iscrowd'] == 0
            assert len(ann['keypoints']) == 3 * 17
            kpts = keypoints(ann)
            v = kpts[:, 2]
            assert set(v) <= {0, 1, 2}
            assert np.all(kpts[v == 0, :2] == 0)
            assert ann['num_keypoints'] == np.count_nonzero(v) >= 3

            x, y, w, h = ann['bbox']
            assert all(isinstance(c, float) for c in ann['bbox'])
            assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
            assert min(w, h) >= 16
            assert isinstance(ann['area'], float)
            assert 0 < ann['area'] <= w * h

            labelled = kpts[v > 0, :2]
            assert np.all((labelled >= 0) & (labelled <= (width - 1,
                                                          height - 1)))
            # Keypoints are on the drawn body, so inside its box.
            assert np.all((labelled >= (x - 1, y - 1))
                          & (labelled <= (x + w + 1, y + h + 1)))
            for poly in ann['segmentation']:
                assert len(poly) >= 6 and len(poly) % 2 == 0


def test_ids_are_unique(dataset):
    root, _ = dataset
    image_ids, ann_ids = [], []
    for split in SPLITS:
        data = load(root, split)
        ids = {image['id'] for image in data['images']}
        assert {ann['image_id'] for ann in data['annotations']} <= ids
        image_ids += ids
        ann_ids += [ann['id'] for ann in data['annotations']]
    assert len(set(image_ids)) == len(image_ids)
    assert len(set(ann_ids)) == len(ann_ids)


def test_dataset_has_hard_cases(dataset):
    root, _ = dataset
    anns = load(root, 'train')['annotations']
    v = np.array([keypoints(ann)[:, 2] for ann in anns])
    assert np.count_nonzero(v == 1) > 0.05 * v.size  # occluded
    assert np.count_nonzero(v[:, 5:] == 0) > 0  # truncated bodies
    assert np.count_nonzero(v[:, :5] == 0) > 0  # faces seen from behind
    per_image = np.bincount([ann['image_id'] for ann in anns])
    assert per_image.max() >= 2


def test_summary_counts_the_files(dataset):
    root, summary = dataset
    for split in SPLITS:
        data = load(root, split)
        v = np.array([keypoints(ann)[:, 2] for ann in data['annotations']])
        assert summary[split] == {
            'images': len(data['images']),
            'instances': len(data['annotations']),
            'keypoints': np.count_nonzero(v),
            'occluded_keypoints': np.count_nonzero(v == 1),
        }


def read_tree(root):
    """Relative path -> bytes of every file under ``root``."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, root)] = f.read()
    return files


def test_deterministic_for_any_worker_count(tmp_path):
    runs = {}
    for name, seed, workers, train in (('a', 5, 0, 6), ('b', 5, 2, 6),
                                       ('c', 6, 0, 6), ('d', 5, 0, 2)):
        root = str(tmp_path / name)
        generate_dataset(root, num_train_images=train, num_val_images=3,
                         seed=seed, image_size=SIZE, workers=workers,
                         progress=False)
        runs[name] = read_tree(root)
    assert len(runs['a']) == 6 + 3 + 2
    assert runs['a'] == runs['b']
    assert not any(runs['a'][path] == runs['c'][path] for path in runs['a'])
    # The val split does not depend on the size of the train split.
    val = [path for path in runs['a'] if 'val' in path]
    assert all(runs['a'][path] == runs['d'][path] for path in val)


def test_left_limbs_are_marked():
    """Left limbs carry a light stripe along their middle; right ones do
    not, so a model can tell them apart (and the labels match the
    drawing)."""
    segments = ((5, 7), (7, 9), (11, 13), (13, 15))  # left side
    brightness = {0: [], 1: []}
    for index in range(30):
        img, anns = render_image(0, 'train', index)
        gray = img.astype(float).mean(2)
        for ann in anns:
            kpts = keypoints(ann)
            for side in (0, 1):
                for a, b in segments:
                    a, b = a + side, b + side
                    if kpts[a, 2] == 2 and kpts[b, 2] == 2:
                        x, y = np.rint((kpts[a, :2] + kpts[b, :2]) / 2)
                        x, y = int(x), int(y)
                        window = gray[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
                        brightness[side].append(window.max())
    assert min(len(brightness[0]), len(brightness[1])) > 50
    assert np.mean(brightness[0]) > np.mean(brightness[1]) + 60


def test_render_image_is_reproducible():
    img, anns = render_image(3, 'val', 7, (96, 80))
    again, anns_again = render_image(3, 'val', 7, (96, 80))
    assert img.shape == (80, 96, 3)
    assert np.array_equal(img, again) and anns == anns_again
    other, _ = render_image(3, 'train', 7, (96, 80))
    assert not np.array_equal(img, other)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate_dataset(str(tmp_path), seed=-1, progress=False)
    with pytest.raises(ValueError):
        generate_dataset(str(tmp_path), image_size=(8, 8), progress=False)
