"""Find bad samples of a COCO-format keypoint dataset before training.

A missing or corrupt image stops a run only when its batch is reached,
possibly hours in; an annotation with another keypoint count fails at
batch collation without naming itself; MMPose drops zero-area boxes and
clips boxes outside the image without a word. :func:`check_coco_dataset`
reads the annotation file itself and reports, per file, each of these
with counts. The cheap part (annotations, image existence and size) runs
before training in
:class:`~distilpose.runtime.hooks.DatasetCheckHook`, which refuses the run, or
with ``skip_bad_samples=True`` trains without the bad samples;
``tools/check_dataset.py`` also decodes every image, in parallel.
"""
import os.path as osp
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional

from .coco_annotations import load_annotation_file


@dataclass(frozen=True)
class Problem:
    """One bad sample: its ``kind``, the file at fault and what is
    wrong; ``image`` (a path) or ``ann_id`` say which samples skipping it
    drops: all of the image, or the one of the annotation."""

    kind: str
    file: str
    detail: str
    image: Optional[str] = None
    ann_id: Optional[int] = None


def _box_problem(bbox, width, height) -> Optional[str]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return f'bbox {bbox!r} is not [x, y, w, h]'
    x, y, w, h = bbox
    if not w > 0 or not h > 0:
        return f'bbox {list(bbox)} has no area'
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return f'bbox {list(bbox)} lies outside the {width}x{height} image'
    return None


def annotation_problems(coco: dict, img_dir: str,
                        num_keypoints: Optional[int] = None
                        ) -> List[Problem]:
    """Problems of the annotations and the image files (existence and
    size, not decoding). ``num_keypoints`` defaults to the category's
    keypoint count."""
    if num_keypoints is None:
        cats = [c for c in coco.get('categories', []) if 'keypoints' in c]
        num_keypoints = len(cats[0]['keypoints']) if cats else None
    images = {im['id']: im for im in coco['images']}
    problems = []
    for ann in coco['annotations']:
        image = images.get(ann.get('image_id'))
        if image is None:
            problems.append(Problem(
                'unknown image', f'annotation {ann.get("id")}',
                f'image_id {ann.get("image_id")} is not in images',
                ann_id=ann.get('id')))
            continue
        where = f'{image["file_name"]} (annotation {ann.get("id")})'
        kpts = ann.get('keypoints', [])
        if num_keypoints is not None and len(kpts) != 3 * num_keypoints:
            problems.append(Problem(
                'keypoint count', where,
                f'{len(kpts) / 3:g} keypoints, the dataset has '
                f'{num_keypoints}', ann_id=ann.get('id')))
        box = _box_problem(ann.get('bbox'), image.get('width'),
                           image.get('height'))
        if box:
            problems.append(Problem('degenerate box', where, box))
    for image in images.values():
        path = osp.join(img_dir, image['file_name'])
        if not osp.isfile(path):
            problems.append(Problem('missing image', path, 'no such file',
                                    image=path))
        elif osp.getsize(path) == 0:
            problems.append(Problem('empty image', path, 'the file is '
                                    'empty (0 bytes)', image=path))
    return problems


def _decode_problem(path: str) -> Optional[Problem]:
    import cv2
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return None  # reported by annotation_problems
    if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
        return Problem('unreadable image', path,
                       'not a decodable image (corrupt or another format)',
                       image=path)
    return None


def decode_problems(paths: List[str], workers: int = 8,
                    progress: bool = False) -> List[Problem]:
    """Decode every image (OpenCV releases the GIL: threads run in
    parallel); one problem per image that does not decode."""
    problems = []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for i, problem in enumerate(pool.map(_decode_problem, paths), 1):
            if problem:
                problems.append(problem)
            if progress and (i % 500 == 0 or i == len(paths)):
                print(f'\rdecoded {i}/{len(paths)} images', end='',
                      file=sys.stderr, flush=True)
    if progress and paths:
        print(file=sys.stderr)
    return problems


def check_coco_dataset(ann_file: str, img_dir: str,
                       num_keypoints: Optional[int] = None,
                       decode: bool = False, workers: int = 8,
                       progress: bool = False) -> List[Problem]:
    """Every problem of a COCO keypoint dataset (see the module doc)."""
    coco = load_annotation_file(ann_file)
    problems = annotation_problems(coco, img_dir, num_keypoints)
    if decode:
        paths = [osp.join(img_dir, im['file_name']) for im in coco['images']]
        problems += decode_problems(paths, workers, progress)
    return problems


def format_report(problems: List[Problem], source: str,
                  limit: Optional[int] = None) -> str:
    """Counts per kind, then one line per problem (``limit`` lines at
    most)."""
    counts = Counter(p.kind for p in problems)
    lines = [f'{source}: {len(problems)} problems (' + ', '.join(
        f'{n} {kind}' for kind, n in counts.most_common()) + ')']
    shown = problems if limit is None else problems[:limit]
    lines += [f'  {p.kind}: {p.file}: {p.detail}' for p in shown]
    if len(shown) < len(problems):
        lines.append(f'  ... and {len(problems) - len(shown)} more')
    return '\n'.join(lines)


def dataset_files(dataset):
    """(annotation file, image folder) of an MMPose COCO-style dataset,
    or None for other datasets."""
    ann_file = getattr(dataset, 'ann_file', None)
    prefix = getattr(dataset, 'data_prefix', None) or {}
    if not ann_file or not str(ann_file).endswith('.json'):
        return None
    return ann_file, prefix.get('img', getattr(dataset, 'data_root', ''))


#: Problems that would stop training later (or crash it): refused, or
#: skipped on request.
FATAL = ('missing image', 'empty image', 'unreadable image',
         'keypoint count', 'unknown image')


def samples_of(dataset, problems: List[Problem]) -> List[int]:
    """Indices of the samples of ``dataset`` that ``problems`` name: those
    of a bad image, and those that hold a bad annotation (a bottom-up
    sample holds all the annotations of its image)."""
    images = {osp.normpath(p.image) for p in problems if p.image}
    ann_ids = {p.ann_id for p in problems if p.ann_id is not None}
    bad = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        ids = info.get('id')
        ids = set(ids) if isinstance(ids, (list, tuple)) else {ids}
        if (osp.normpath(info.get('img_path') or '') in images
                or ids & ann_ids):
            bad.append(i)
    return bad
