"""The dataset on disk: images drawn in worker processes, JPEGs written as
they come, then one COCO annotation file per split."""
import json
import multiprocessing
import os
import os.path as osp
import sys

import cv2
import numpy as np
from tqdm import tqdm

from distilpose.fileio import atomic_write

from .render import render_image
from .skeleton import (NUM_KEYPOINTS, SPLITS, VAL_ID_OFFSET, coco_category,
                       image_id)

_JPEG_QUALITY = 90


def _render_task(task):
    """Worker: draw one image, write its JPEG, return its COCO records."""
    seed, split, index, image_size, image_dir = task
    img, annotations = render_image(seed, split, index, image_size)
    img_id = image_id(split, index)
    file_name = f'{img_id:012d}.jpg'
    ok, data = cv2.imencode('.jpg', img,
                            [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f'JPEG encoding failed for {file_name}')
    with open(osp.join(image_dir, file_name), 'wb') as f:
        f.write(data.tobytes())
    info = {
        'id': img_id,
        'file_name': file_name,
        'width': image_size[0],
        'height': image_size[1]
    }
    return split, info, annotations


def _render_all(tasks, workers, progress):
    """Yield the results of ``tasks`` in order, in ``workers`` processes."""
    bar = tqdm(total=len(tasks), desc='synthetic COCO', unit='img',
               file=sys.stderr, mininterval=1., disable=not progress)
    with bar:
        if workers <= 1:
            results = map(_render_task, tasks)
            for result in results:
                bar.update()
                yield result
            return
        chunk = max(1, min(16, len(tasks) // (8 * workers)))
        # Forked children inherit OpenCV's thread pool without its threads
        # and can hang on it (seen with torch loaded): stop those threads
        # first. The workers then run OpenCV single-threaded, as they
        # should beside each other.
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with multiprocessing.Pool(workers) as pool:
                for result in pool.imap(_render_task, tasks, chunksize=chunk):
                    bar.update()
                    yield result
        finally:
            cv2.setNumThreads(threads)


def _coco_json(images, annotations, split, seed, image_size):
    return {
        'info': {
            'description': f'DistilPose synthetic people, {split} split, '
            f'seed {seed}, {image_size[0]}x{image_size[1]}',
            'version': '1.0',
            # A fixed label, part of the files' bytes: the same arguments
            # keep giving the same files.
            'contributor': 'distilpose.datasets.synthetic_coco',
        },
        'licenses': [],
        'images': images,
        'annotations': annotations,
        'categories': [coco_category()],
    }


def _summary(images, annotations):
    v = np.array([ann['keypoints'][2::3] for ann in annotations],
                 int).reshape(-1, NUM_KEYPOINTS)
    return {
        'images': len(images),
        'instances': len(annotations),
        'keypoints': int(np.count_nonzero(v)),
        'occluded_keypoints': int(np.count_nonzero(v == 1)),
    }


def generate_dataset(out_dir,
                     num_train_images=1000,
                     num_val_images=200,
                     seed=0,
                     image_size=(256, 256),
                     workers=None,
                     progress=True):
    """Write a synthetic COCO person-keypoint dataset to ``out_dir``.

    Args:
        out_dir: created if needed; see the package docstring for the
            layout.
        num_train_images, num_val_images: images per split.
        seed: non-negative integer; the output is a function of the seed,
            the sizes and ``image_size`` only.
        image_size: ``(width, height)`` in pixels.
        workers: processes drawing images (default ``min(4, cpu_count)``);
            0 or 1 draws in this process.
        progress: show a progress bar on stderr.

    Returns:
        ``{split: {'images', 'instances', 'keypoints' (labelled),
        'occluded_keypoints'}}`` for ``train`` and ``val``.

    Annotation files of an earlier run are removed first and the new ones
    written last, so annotations always match the images on disk.
    """
    if int(seed) != seed or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed}')
    if not 0 <= num_train_images < VAL_ID_OFFSET or num_val_images < 0:
        raise ValueError('image counts must be >= 0 and the train count '
                         f'below {VAL_ID_OFFSET}')
    width, height = (int(s) for s in image_size)
    if min(width, height) < 32:
        raise ValueError(f'image_size {image_size} is too small')
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    counts = {'train': num_train_images, 'val': num_val_images}

    ann_dir = osp.join(out_dir, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    ann_files = {
        split: osp.join(ann_dir, f'person_keypoints_{split}.json')
        for split in SPLITS
    }
    tasks = []
    for split in SPLITS:
        if osp.exists(ann_files[split]):
            os.remove(ann_files[split])
        image_dir = osp.join(out_dir, split)
        os.makedirs(image_dir, exist_ok=True)
        tasks += [(int(seed), split, i, (width, height), image_dir)
                  for i in range(counts[split])]

    images = {split: [] for split in SPLITS}
    annotations = {split: [] for split in SPLITS}
    for split, info, anns in _render_all(tasks, workers, progress):
        images[split].append(info)
        annotations[split] += anns

    summary = {}
    for split in SPLITS:
        coco = _coco_json(images[split], annotations[split], split, seed,
                          (width, height))
        atomic_write(json.dumps(coco, separators=(',', ':')).encode(),
                     ann_files[split])
        summary[split] = _summary(images[split], annotations[split])
    return summary
