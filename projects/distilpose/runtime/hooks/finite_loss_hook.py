"""Stop training at the first non-finite loss, before anything is saved.

Without it a NaN or inf loss trains on silently: the optimizer step
writes NaN into the weights and the next ``CheckpointHook`` save
overwrites good checkpoints with a broken model, hours before anyone
notices.
"""
import math

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint
from mmpose.registry import HOOKS


def _is_finite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.detach()).all())
    return math.isfinite(float(value))


def _any_rank(flag: bool) -> bool:
    """``flag`` or'ed over ranks (unchanged in one process), so that every
    rank stops together instead of the healthy ones waiting forever on the
    stopped one."""
    tensor = torch.tensor([int(flag)])
    all_reduce(tensor, op='max')
    return bool(tensor.item())


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` after a training iteration whose loss
    (any ``loss*`` entry of the model's outputs) is NaN or inf, on any rank.

    The error names the epoch and iteration and the last checkpoint on
    disk, which is the last good one: the hook runs before
    ``CheckpointHook`` (priority ``ABOVE_NORMAL`` vs ``VERY_LOW``), so the
    broken weights of this step are never saved. Enabled by default through
    ``custom_hooks`` in ``configs/_base_/default_runtime.py``.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        losses = {k: v for k, v in (outputs or {}).items()
                  if k.startswith('loss')}
        bad = {k: v for k, v in losses.items() if not _is_finite(v)}
        if not _any_rank(bool(bad)):
            return
        values = ', '.join(
            f'{k}={float(torch.as_tensor(v).detach()):g}'
            for k, v in bad.items())
        where = (f'epoch {runner.epoch + 1}, iteration {batch_idx + 1} '
                 f'(global iteration {runner.iter + 1})')
        last = find_latest_checkpoint(runner.work_dir)
        saved = (f'The last good checkpoint is {last} (continue from it '
                 'with --resume).' if last else
                 'No checkpoint had been saved yet.')
        raise FloatingPointError(
            f'Non-finite loss at {where}: '
            f'{values or "on another rank"}. Training stopped; the weights '
            f'of this step were not saved. {saved} Lower the learning rate, '
            'enable gradient clipping (optim_wrapper.clip_grad=dict('
            'max_norm=...)) or check the data of this iteration first.')
