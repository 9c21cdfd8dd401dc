"""``--resume`` from the newest checkpoint that can be read; the file
checks are in :mod:`distilpose.runtime.resume`."""
import logging
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from ..resume import latest_readable_checkpoint, remove_interrupted_writes


@HOOKS.register_module()
class ResumeFromReadableCheckpointHook(Hook):
    """On ``--resume`` without a file, resume from the newest checkpoint
    that is complete, warning about each newer one that is not.

    It runs in ``before_run``, before MMEngine's ``load_or_resume``; with a
    file given (``--resume FILE``) or a complete latest checkpoint it
    changes nothing. On every run, resumed or not, it first removes the
    temporary files of interrupted checkpoint writes from ``work_dir``
    (``.epoch_N.pth.<hex>.tmp``: never a complete checkpoint under its
    name, and as large as one).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if not osp.isdir(runner.work_dir):
            return
        if is_main_process():  # rank 0 alone writes checkpoints
            remove_interrupted_writes(runner.work_dir)
        if not runner._resume or runner._load_from is not None:
            return
        chosen, skipped = latest_readable_checkpoint(runner.work_dir)
        then = (f'Resuming from {chosen}.' if chosen else
                'No complete checkpoint is left to resume from.')
        for path, reason in skipped:
            print_log(f'--resume skips {path}: {reason}. {then}',
                      logger='current', level=logging.WARNING)
        if skipped and chosen:
            runner._load_from = chosen
