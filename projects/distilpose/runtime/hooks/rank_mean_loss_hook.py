"""Log losses averaged over all ranks, not rank 0's alone.

MMEngine logs the losses of rank 0's share of the batch. DDP trains on the
mean over ranks (it averages gradients), so the logged value is noisier
than the trained one and differs from a one-process run with the same
total batch. :class:`MeanLossAcrossRanksHook` logs the mean instead.
"""
import torch
from mmengine.dist import all_reduce, is_distributed
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class MeanLossAcrossRanksHook(Hook):
    """Replace every scalar of a training step's outputs (losses,
    accuracies) by its mean over ranks before it is logged; a no-op in
    one process. Costs one all-reduce of a few numbers per iteration.

    Runs first (priority ``HIGHEST``), before MMEngine's
    ``RuntimeInfoHook`` records the values. Enabled by default through
    ``custom_hooks`` in ``configs/_base_/default_runtime.py``.
    """

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not outputs or not is_distributed():
            return
        keys = [k for k, v in outputs.items()
                if isinstance(v, torch.Tensor) and v.numel() == 1]
        if not keys:
            return
        values = torch.stack(
            [outputs[k].detach().reshape(()).double() for k in keys])
        all_reduce(values, op='mean')
        for key, value in zip(keys, values):
            outputs[key] = value.to(outputs[key].dtype)
