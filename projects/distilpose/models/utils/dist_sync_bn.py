"""Batch normalisation synchronised over ranks on any device and backend.

With plain BN every rank of a distributed run normalises its own share of
the batch, so N processes x B samples do not train like one process with
N*B. ``torch.nn.SyncBatchNorm`` fixes that on GPUs only (it refuses CPU
tensors, so gloo/CPU runs cannot use it). :class:`DistSyncBatchNorm`
computes the batch statistics with autograd-aware all-reduces
(``torch.distributed.nn.functional.all_reduce``), which works on every
backend.
"""
import torch
import torch.distributed as dist
from mmpose.registry import MODELS
from torch import Tensor
from torch.distributed.nn.functional import all_reduce
from torch.nn.modules.batchnorm import _BatchNorm


def _world_size() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


@MODELS.register_module('DistSyncBN')
class DistSyncBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics are those of the whole batch
    over all ranks; plain BatchNorm in eval mode or in one process.

    Forward and backward equal BatchNorm on the concatenated batch: the
    mean and the (biased) variance come from all-reduced sums, whose
    backward all-reduces the gradients. The running mean and variance are
    updated with the global mean and unbiased variance, so every rank keeps
    the same buffers. Any input of shape [N, C, *].

    Select it for a backbone with ``norm_cfg=dict(type='DistSyncBN')``,
    e.g. ``--cfg-options model.backbone.norm_cfg.type=DistSyncBN``. State
    dicts are those of ``nn.BatchNorm2d``. Every rank must call it the same
    number of times per step, as DDP training does; in eval mode it does
    not communicate.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                f'expected an input of shape [N, C, *], got {input.dim()}-D')

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or _world_size() == 1:
            return super().forward(x)
        self._check_input_dim(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = torch.tensor(float(x.numel() // x.shape[1]),
                             dtype=x.dtype, device=x.device)
        dist.all_reduce(count)
        mean = all_reduce(x.sum(dims)) / count
        centered = x - mean.view(shape)
        var = all_reduce(centered.square().sum(dims)) / count
        out = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), count)
        return out

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, var: Tensor,
                              count: Tensor) -> None:
        """As ``F.batch_norm`` does: exponential average with
        ``momentum``, or the cumulative average if it is None."""
        self.num_batches_tracked.add_(1)
        factor = (self.momentum if self.momentum is not None else 1.0 /
                  float(self.num_batches_tracked))
        unbiased = var * count / (count - 1).clamp(min=1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)
