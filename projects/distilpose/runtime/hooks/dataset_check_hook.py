"""Refuse a train dataset with missing or broken samples before the first
step (or skip them on request), and one without people in any case; the
checks are in :mod:`distilpose.datasets.dataset_check`."""
from typing import List

from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ...datasets.dataset_check import (FATAL, UNUSABLE, Problem,
                                       check_coco_dataset, dataset_files,
                                       format_report, samples_of)


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
    images, annotations whose keypoint count differs from the dataset's,
    visibility flags outside {0, 1, 2}, non-finite keypoints or boxes, or
    labelled keypoints far outside their image, with the report; warn with
    the count of degenerate boxes (which MMPose drops or clips). An
    annotation file without people is refused even with skipping.

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
        source = f'The train dataset {ann_file}'
        unusable = [p for p in problems if p.kind in UNUSABLE]
        if unusable:
            raise ValueError(
                f'{source} has {unusable[0].detail} skip_bad_samples=True '
                'cannot help: no sample would be left.')
        fatal = [p for p in problems if p.kind in FATAL]
        if fatal and self.skip_bad_samples:
            self._skip(runner, dataset, fatal, source)
        elif fatal:
            raise ValueError(
                format_report(fatal, source, limit=20) +
                '\nFix or remove these samples before training, or train '
                f'without them with {_option_hint(runner)}; '
                f'`python tools/check_dataset.py {ann_file} {img_dir}` '
                'lists all problems and also decodes every image.')
        degenerate = [p for p in problems if p.kind == 'degenerate box']
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
