"""Train and test in the channels_last (NHWC) memory format, which cuDNN's
convolutions, BF16 and fp16 ones above all, run faster in on recent GPUs.
MMEngine has no switch for it; this hook is one (off unless a config
enables it)::

    custom_hooks = [..., dict(type='ChannelsLastHook')]

Only the layout of 4-D tensors changes (convolution weights, the images,
the feature maps); values, parameter names, checkpoints and the optimiser
are untouched, and a checkpoint saved in either layout loads into the
other.
"""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS
from torch.nn.parallel import DistributedDataParallel

_DONE = '_distilpose_channels_last'


def _images_to_channels_last(module, args):
    """Forward pre-hook: 4-D tensor arguments in channels_last."""
    return tuple(
        a.contiguous(memory_format=torch.channels_last)
        if isinstance(a, torch.Tensor) and a.dim() == 4 else a for a in args)


def to_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Put ``model``'s 4-D parameters and buffers in channels_last (a
    DistilPose distiller's invisible teacher follows, as it does on
    ``.to()``) and make its backbones (the teacher's too) take the images
    in channels_last. In place, once; returns the model."""
    if getattr(model, _DONE, False):
        return model
    model.to(memory_format=torch.channels_last)
    teacher = model.__dict__.get('teacher')
    for owner in (model, teacher):
        backbone = getattr(owner, 'backbone', None)
        if backbone is not None:
            backbone.register_forward_pre_hook(_images_to_channels_last)
    setattr(model, _DONE, True)
    return model


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Switch the model to channels_last (:func:`to_channels_last`) when
    training, validation or testing starts, after the runner has
    initialised or loaded the weights: initialisers fill a tensor in
    memory order, so a switch before them would draw other initial
    weights than the default layout does.

    MMEngine wraps the model for distributed training before any hook
    runs, so under DDP the gradients reach its buckets in another layout:
    PyTorch warns once ("Grad strides do not match bucket view strides")
    and copies them; the results are the same. The hook says so.
    """

    priority = 'VERY_HIGH'

    def _switch(self, runner) -> None:
        model = runner.model
        wrapped = is_model_wrapper(model)
        if wrapped:
            model = model.module
        if getattr(model, _DONE, False):
            return
        to_channels_last(model)
        runner.logger.info('ChannelsLastHook: the model and its input '
                           'images are in channels_last memory format')
        if wrapped and isinstance(runner.model, DistributedDataParallel):
            runner.logger.warning(
                'ChannelsLastHook: the model was wrapped in DDP before; '
                'its gradients are copied into DDP buckets of the other '
                'layout (PyTorch warns "Grad strides do not match bucket '
                'view strides"): results are unchanged, the all-reduce a '
                'little slower.')

    def before_train(self, runner) -> None:
        self._switch(runner)

    def before_val(self, runner) -> None:
        self._switch(runner)

    def before_test(self, runner) -> None:
        self._switch(runner)
