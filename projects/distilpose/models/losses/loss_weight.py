"""Refuse loss weights that cannot be meant, when the model is built.

A negative weight turns a loss into one that training maximises (the run
"finishes successfully" with a negative loss), a NaN or infinite one makes
the first loss non-finite, and a string or a bool fails inside torch at the
first step, or (``True``) silently weighs 1. :func:`check_loss_weight`
refuses them with the config key and the value; :func:`check_loss_weights`
applies it to every loss module of a model, MMPose's included (they keep
their weight as ``loss_weight``).
"""
import math
import numbers

import torch.nn as nn


def check_loss_weight(value, key: str):
    """``value`` if it is a finite number >= 0 (0 turns the term off),
    else a ``TypeError`` (not a number, or a bool) or ``ValueError``
    (negative, NaN or infinite) naming ``key``, the config key."""
    fix = f'Set {key} to a finite number >= 0 (0 turns the term off).'
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{key} is {value!r} ({type(value).__name__}), not '
                        f'a number. {fix}')
    if not math.isfinite(value):
        raise ValueError(f'{key} is {value!r}: every loss would be '
                         f'non-finite. {fix}')
    if value < 0:
        raise ValueError(f'{key} is {value!r}: a negative weight makes '
                         f'training maximise that loss. {fix}')
    return value


def _config_key(module_path: str) -> str:
    """The config key of a submodule: MMPose heads build ``loss`` into
    ``loss_module``."""
    return '.'.join('loss' if part == 'loss_module' else part
                    for part in module_path.split('.'))


def check_loss_weights(model: nn.Module, prefix: str = 'model') -> None:
    """:func:`check_loss_weight` on the ``loss_weight`` of every submodule
    of ``model`` that has one, named by its config key under ``prefix``
    (e.g. ``model.head.loss.loss_weight`` for a head's
    ``KeypointMSELoss``)."""
    for path, module in model.named_modules():
        if 'loss_weight' not in vars(module):
            continue
        key = '.'.join(p for p in (prefix, _config_key(path)) if p)
        check_loss_weight(module.loss_weight,
                          f'{key}.loss_weight ({type(module).__name__})')
