"""``--resume`` from the newest complete checkpoint of the work dir; the
file checks are in :mod:`distilpose.runtime.resume`."""
import logging
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from ..resume import (LAST_CHECKPOINT, ResumeError, check_not_behind,
                      checkpoint_dir, choose_resume_checkpoint,
                      remove_interrupted_writes)


@HOOKS.register_module()
class ResumeFromReadableCheckpointHook(Hook):
    """Decide what ``--resume`` continues from, before MMEngine's
    ``load_or_resume`` (``before_run``, VERY_HIGH priority).

    - ``--resume`` without a file: the checkpoint ``last_checkpoint``
      names, when it is a complete file of the checkpoint folder (one
      named in another folder, as in a copied work dir, is taken by its
      file name here); else the newest complete ``epoch_N.pth`` /
      ``iter_N.pth`` before it. Every file passed over, and a newer
      checkpoint that training will overwrite, gets a warning. With
      nothing complete left where something was, it stops and says what
      to do.
    - ``resume`` with ``load_from`` (``--resume FILE``) continues from
      that file, as MMEngine documents, unless the work dir holds a newer
      checkpoint: an explicit file is what a user asked for, but
      overwriting later epochs without a word is not, so that is refused
      with both paths and both fixes.

    On every run, resumed or not, it first removes the temporary files of
    interrupted checkpoint writes (``.epoch_N.pth.<hex>.tmp``: never a
    complete checkpoint under its name, and as large as one).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if not osp.isdir(runner.work_dir):
            return
        folder = checkpoint_dir(runner)
        if is_main_process():  # rank 0 alone writes checkpoints
            for where in {runner.work_dir, folder} - {None}:
                if osp.isdir(where):
                    remove_interrupted_writes(where)
        if not runner._resume or folder is None:
            return
        if runner._load_from is not None:
            check_not_behind(runner._load_from, runner.work_dir, folder)
            return
        chosen, notes = choose_resume_checkpoint(runner.work_dir, folder)
        if chosen is None and notes:
            raise ResumeError(
                f'--resume found no complete checkpoint in {folder}: '
                f'{" ".join(notes)} Resume from a complete one with '
                '`--resume FILE`, or train from scratch without --resume '
                f'(after moving {folder}\'s checkpoints and '
                f'{LAST_CHECKPOINT} elsewhere if you want to keep them).')
        then = f'Resuming from {chosen}.'
        for note in notes:
            print_log(f'{note} {then}', logger='current',
                      level=logging.WARNING)
        if chosen is not None:
            if not notes:
                print_log(f'--resume: resuming from {chosen}, named in '
                          f'{osp.join(runner.work_dir, LAST_CHECKPOINT)}.',
                          logger='current')
            runner._load_from = chosen
