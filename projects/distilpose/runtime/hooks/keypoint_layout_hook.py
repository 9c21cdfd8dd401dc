"""Stop a run whose model, metainfo and annotations disagree on the
keypoints before any work is done; the checks are in
:mod:`distilpose.datasets.keypoint_layout`."""
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ...datasets.keypoint_layout import check_dataset


@HOOKS.register_module()
class KeypointLayoutCheckHook(Hook):
    """Stops a run whose model, dataset metainfo and annotations disagree
    on the keypoints, before training, validation or testing starts (so
    before any checkpoint is written), with the config keys to fix.

    Enabled for every config of this project through ``custom_hooks`` in
    ``configs/_base_/default_runtime.py``.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._checked = set()

    def _check(self, runner, dataloader, split: str) -> None:
        dataset = getattr(dataloader, 'dataset', None)
        if dataset is None or id(dataset) in self._checked:
            return
        check_dataset(runner.model, dataset, f'the {split} dataset')
        self._checked.add(id(dataset))

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader, 'train')
        if runner.val_loop is not None:
            self._check(runner, runner.val_dataloader, 'val')

    def before_val(self, runner) -> None:
        self._check(runner, runner.val_dataloader, 'val')

    def before_test(self, runner) -> None:
        self._check(runner, runner.test_dataloader, 'test')
