"""Find bad samples of a COCO-format keypoint dataset before training.

A missing or corrupt image stops a run only when its batch is reached,
possibly hours in; an annotation with another keypoint count fails at
batch collation without naming itself; MMPose drops zero-area boxes and
clips boxes outside the image without a word. :func:`check_coco_dataset`
reads the annotation file itself and reports, per file, each of these
with counts. The cheap part (annotations, image existence and size) runs
before training in :class:`DatasetCheckHook`, which refuses the run, or
with ``skip_bad_samples=True`` trains without the bad samples;
``tools/check_dataset.py`` also decodes every image, in parallel.
"""
import json
import os.path as osp
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional

from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


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


#: What ``json.load`` raises on a file that is not JSON.
NOT_JSON = (UnicodeDecodeError, json.JSONDecodeError)


def not_json_error(path: str, err: Exception) -> ValueError:
    """The error for an annotation file that ``json.load`` refused."""
    return ValueError(f'The annotation file {path} is not valid JSON '
                      f'({err}). Regenerate or re-download it.')


def load_annotation_file(path: str) -> dict:
    """The parsed COCO annotation file, with errors that name it."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except NOT_JSON as err:
        raise not_json_error(path, err) from err
    missing = [k for k in ('images', 'annotations') if k not in coco]
    if not isinstance(coco, dict) or missing:
        raise ValueError(f'The annotation file {path} is not in COCO '
                         f'format: no {" or ".join(missing) or "dict"}.')
    return coco


def people_by_image(coco: dict, min_size: float = 0.) -> list:
    """``[(image, [(annotation id, xyxy box), ...]), ...]`` of the images of
    a COCO annotation dict that show people: annotations with keypoints
    whose box is wider and higher than ``min_size`` pixels, in the file's
    image order."""
    boxes = {}
    for ann in coco['annotations']:
        x, y, w, h = ann.get('bbox') or (0, 0, 0, 0)
        if ann.get('num_keypoints', 1) > 0 and w > min_size and h > min_size:
            boxes.setdefault(ann['image_id'], []).append(
                (ann['id'], [x, y, x + w, y + h]))
    return [(image, boxes[image['id']]) for image in coco['images']
            if image['id'] in boxes]


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


def refit_train_loader(runner) -> None:
    """Size the sampler and the epoch of the train loader again after its
    dataset shrank: MMEngine sized them when it built the loader."""
    loader = runner.train_dataloader
    sampler = loader.sampler
    if isinstance(sampler, DefaultSampler):
        # The same arguments: only the sizes derived from the dataset change
        sampler.__init__(sampler.dataset, sampler.shuffle, sampler.seed,
                         sampler.round_up)
    elif isinstance(sampler, InfiniteSampler):
        sampler.size = len(sampler.dataset)  # read when iteration starts
    else:
        raise TypeError(
            f'skip_bad_samples=True cannot resize a {type(sampler).__name__}'
            ' (DefaultSampler and InfiniteSampler only); fix or remove the '
            'bad samples in the annotation file instead.')
    loop = runner.train_loop
    if hasattr(loop, 'max_epochs'):  # epoch-based: logged ETA, max_iters
        loop._max_iters = loop.max_epochs * len(loader)


def _option_hint(runner) -> str:
    """How to set ``skip_bad_samples`` from the command line."""
    hooks = (getattr(runner, 'cfg', None) or {}).get('custom_hooks') or []
    index = [i for i, h in enumerate(hooks)
             if h.get('type') in ('DatasetCheckHook', DatasetCheckHook)]
    where = (f'custom_hooks.{index[0]}' if index else
             'custom_hooks.<index of DatasetCheckHook>')
    return f'--cfg-options {where}.skip_bad_samples=True'


@HOOKS.register_module()
class DatasetCheckHook(Hook):
    """Before the first step, refuse a train dataset with missing or empty
    images or annotations whose keypoint count differs from the dataset's,
    with the report; warn with the count of degenerate boxes (which MMPose
    drops or clips).

    It reads the annotation file and stats every image (seconds even on
    COCO); ``tools/check_dataset.py`` also decodes every image.

    Args:
        skip_bad_samples (bool): train without the samples of the report
            instead of refusing, with a warning that says how many were
            skipped. The run then trains on fewer samples per epoch.
    """

    priority = 'HIGH'  # after KeypointLayoutCheckHook (VERY_HIGH)

    def __init__(self, skip_bad_samples: bool = False):
        self.skip_bad_samples = skip_bad_samples
        if skip_bad_samples:
            # Before KeypointLayoutCheckHook, which would refuse the
            # annotations about to be skipped, and before RuntimeInfoHook
            # logs max_iters.
            self.priority = 'HIGHEST'

    def before_train(self, runner) -> None:
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        files = dataset_files(dataset)
        if files is None:
            return
        ann_file, img_dir = files
        num = (getattr(dataset, 'metainfo', None) or {}).get('num_keypoints')
        problems = check_coco_dataset(ann_file, img_dir, num)
        fatal = [p for p in problems if p.kind in FATAL]
        source = f'The train dataset {ann_file}'
        if fatal and self.skip_bad_samples:
            self._skip(runner, dataset, fatal, source)
        elif fatal:
            raise ValueError(
                format_report(fatal, source, limit=20) +
                '\nFix or remove these samples before training, or train '
                f'without them with {_option_hint(runner)}; '
                f'`python tools/check_dataset.py {ann_file} {img_dir}` '
                'lists all problems and also decodes every image.')
        degenerate = [p for p in problems if p.kind not in FATAL]
        if degenerate:
            runner.logger.warning(
                format_report(degenerate, source, limit=5) +
                '\nMMPose drops boxes without area and clips the others '
                'to the image: the run trains on fewer or smaller '
                'instances than the file holds.')

    @staticmethod
    def _skip(runner, dataset, fatal: List[Problem], source: str) -> None:
        bad = samples_of(dataset, fatal)
        total = len(dataset)
        report = format_report(fatal, source, limit=20)
        if len(bad) == total:
            raise ValueError(
                f'{report}\nskip_bad_samples=True would skip all {total} '
                'samples: nothing is left to train on. Fix the dataset '
                '(or, if every keypoint count is wrong, its metainfo).')
        bad = set(bad)
        dataset.get_subset_([i for i in range(total) if i not in bad])
        refit_train_loader(runner)
        runner.logger.warning(
            f'{report}\nskip_bad_samples=True: {len(bad)} of the {total} '
            f'samples are skipped; training goes on with the other '
            f'{len(dataset)}.')
