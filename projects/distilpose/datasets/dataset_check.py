"""Find bad samples of a COCO-format keypoint dataset before training.

A missing or corrupt image stops a run only when its batch is reached,
possibly hours in; an annotation with another keypoint count fails at
batch collation without naming itself; a NaN coordinate or box surfaces as
a NaN loss some iterations in, naming no annotation; a visibility flag
outside {0, 1, 2} becomes a keypoint weight MMPose takes as is (-1: a
negative weight, the loss maximised for that keypoint); a file without
people fails in MMEngine with "need at least one array to concatenate";
MMPose drops zero-area boxes and clips boxes outside the image without a
word. :func:`check_coco_dataset` reads the annotation file itself and
reports, per annotation (image and annotation id), each of these with
counts per kind. The cheap part (annotations, image existence and size)
runs before training in
:class:`~distilpose.runtime.hooks.DatasetCheckHook`, which refuses the run, or
with ``skip_bad_samples=True`` trains without the bad samples;
``tools/check_dataset.py`` also decodes every image, in parallel.
"""
import math
import os.path as osp
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .coco_annotations import load_annotation_file, why_no_people


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


#: Problems that would stop training later, crash it or train on wrong
#: targets: refused, or skipped on request.
FATAL = ('missing image', 'empty image', 'unreadable image',
         'keypoint count', 'unknown image', 'bad visibility flag',
         'non-finite keypoint', 'keypoint far outside image',
         'non-finite box')
#: Problems of the whole file: refused even with skipping.
UNUSABLE = ('no people', )

#: COCO's keypoint visibility flags: 0 not labelled, 1 labelled but not
#: visible, 2 labelled and visible.
VISIBILITY_FLAGS = (0, 1, 2)
#: How far outside its image a labelled keypoint may lie, in image sizes.
#: A truncated person is annotated with keypoints a little outside the
#: frame, and a box may reach past it; a keypoint more than a whole image
#: width (or height) outside cannot belong to a person in the image: it is
#: a unit or field-order error, and regression targets (DistilPose's) take
#: it as is, with a loss that dwarfs every other sample's.
FAR_OUTSIDE = 1.0


def _finite(value) -> bool:
    """A finite JSON number (not a bool, None or a string)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _box_problem(bbox, width, height) -> Optional[Tuple[str, str]]:
    """(kind, detail) of what is wrong with a COCO [x, y, w, h] box."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return 'degenerate box', f'bbox {bbox!r} is not [x, y, w, h]'
    if not all(map(_finite, bbox)):
        return 'non-finite box', (f'bbox {list(bbox)} has a value that is '
                                  'not a finite number')
    x, y, w, h = bbox
    if not w > 0 or not h > 0:
        return 'degenerate box', f'bbox {list(bbox)} has no area'
    if not (_finite(width) and _finite(height)):
        return None  # no image size to compare with
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return 'degenerate box', (f'bbox {list(bbox)} lies outside the '
                                  f'{width}x{height} image')
    return None


def _listed(items, limit: int = 5) -> str:
    shown = ', '.join(items[:limit])
    return shown + (f' and {len(items) - limit} more'
                    if len(items) > limit else '')


def _keypoint_problems(kpts, width, height) -> List[Tuple[str, str]]:
    """(kind, detail) per kind of bad value among the (x, y, v) triples
    of one annotation: one problem per annotation and kind, naming the
    keypoints (0-based indices)."""
    flags, non_finite, far = [], [], []
    size_known = _finite(width) and _finite(height) and width > 0 \
        and height > 0
    for k in range(len(kpts) // 3):
        x, y, v = kpts[3 * k:3 * k + 3]
        if not (_finite(x) and _finite(y)):
            non_finite.append(f'{k} ({x!r}, {y!r})')
        if not (_finite(v) and v in VISIBILITY_FLAGS):
            flags.append(f'{k} ({v!r})')
        elif v > 0 and size_known and _finite(x) and _finite(y) and (
                not -FAR_OUTSIDE * width <= x <= (1 + FAR_OUTSIDE) * width
                or not -FAR_OUTSIDE * height <= y <= (1 + FAR_OUTSIDE) *
                height):
            far.append(f'{k} ({x:g}, {y:g})')
    problems = []
    if flags:
        problems.append((
            'bad visibility flag',
            'visibility flags outside {0, 1, 2} at keypoints (index '
            f'(flag)) {_listed(flags)}: COCO has 0 not labelled, 1 '
            'labelled but hidden, 2 labelled and visible; MMPose takes '
            'the flag as the keypoint weight (-1 maximises the loss)'))
    if non_finite:
        problems.append((
            'non-finite keypoint',
            f'keypoints (index (x, y)) {_listed(non_finite)} are not '
            'finite numbers (the loss would be NaN)'))
    if far:
        problems.append((
            'keypoint far outside image',
            f'labelled keypoints (index (x, y)) {_listed(far)} lie more '
            f'than {FAR_OUTSIDE:g} image size outside the {width}x{height}'
            ' image (wrong units, image size or field order?)'))
    return problems


def people_problem(coco: dict, ann_file: str) -> Optional[Problem]:
    """A ``'no people'`` problem if no annotation of the file is a person
    with labelled keypoints: nothing to train on."""
    why = why_no_people(coco)
    return Problem('no people', ann_file, why) if why else None


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
        width, height = image.get('width'), image.get('height')
        # Crowds and annotations of 0 keypoints are not trained on (MMPose
        # drops them), whatever their values.
        used = not ann.get('iscrowd') and ann.get('num_keypoints', 1) != 0
        for kind, detail in _keypoint_problems(
                kpts if used and isinstance(kpts, list) else [], width,
                height):
            problems.append(Problem(kind, where, detail,
                                    ann_id=ann.get('id')))
        box = _box_problem(ann.get('bbox'), width, height)
        if box:
            kind, detail = box
            problems.append(Problem(
                kind, where, detail,
                ann_id=ann.get('id') if kind in FATAL else None))
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
    people = people_problem(coco, ann_file)
    if people:
        problems.insert(0, people)
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
