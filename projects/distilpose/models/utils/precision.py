"""Faster inference of a top-down model, on a CPU or a GPU: BF16 autocast
and ``torch.compile``, switched on per model, outputs kept float32.

:func:`set_inference_precision` changes a built model in place (after
``init_model``, or on ``MMPoseInferencer(...).inferencer.model``).
:class:`InferencePrecisionHook` (in ``configs/_base_/default_runtime.py``)
applies the config's switch for ``mim test`` and validation::

    model = dict(test_cfg=dict(precision='bf16', compile=True))
    # or: mim test mmpose CONFIG --checkpoint CKPT \\
    #         --cfg-options model.test_cfg.precision=bf16

The network parts (``extract_feat``: backbone and neck; ``head.forward``)
run under ``torch.autocast(device, dtype=torch.bfloat16)``, ``device``
being that of their inputs (``'cpu'``, ``'cuda'``: the switch follows the
model to a GPU, set before or after ``.to()``), and their outputs are cast
back to float32, so decoding, flip test and the metrics see the tensors
they always do. Modules and parameters are left as they are
(``torch.compile`` wraps the two functions, not the modules), so
checkpoints saved during validation keep their keys. Training also calls
``extract_feat``, so the hook switches the precision on for validation
and testing only, and back to fp32 after each validation.
"""
from typing import Callable

import torch
from mmengine.model import is_model_wrapper

from .bf16 import in_bf16, warn_if_bf16_is_emulated

PRECISIONS = ('fp32', 'bf16')
_ORIGINAL = '_distilpose_fp32_functions'


def _fast(fn: Callable, bf16: bool, compile_: bool) -> Callable:
    run = in_bf16(fn) if bf16 else fn
    return torch.compile(run, dynamic=False) if compile_ else run


def set_inference_precision(model: torch.nn.Module,
                            precision: str = 'bf16',
                            compile: bool = False) -> torch.nn.Module:
    """Run ``model``'s network in ``precision`` ('fp32' or 'bf16'), with
    ``torch.compile`` if ``compile``; 'fp32' without compile restores the
    original functions. Returns the model (changed in place)."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision={precision!r}: choose one of '
                         f'{PRECISIONS} (test_cfg.precision).')
    if is_model_wrapper(model):
        model = model.module
    head = getattr(model, 'head', None)
    if not hasattr(model, 'extract_feat') or head is None:
        raise TypeError(f'{type(model).__name__} has no extract_feat and '
                        'head: set_inference_precision takes a top-down '
                        'pose estimator.')
    original = getattr(model, _ORIGINAL, None)
    if original is None:
        original = (model.extract_feat, head.forward)
        setattr(model, _ORIGINAL, original)
    extract_feat, head_forward = original
    if precision == 'fp32' and not compile:
        model.extract_feat, head.forward = extract_feat, head_forward
        delattr(model, _ORIGINAL)
        return model
    bf16 = precision == 'bf16'
    if bf16:  # named now for the model's device, at each call for others
        param = next(model.parameters(), None)
        warn_if_bf16_is_emulated(
            'cpu' if param is None else param.device.type)
    model.extract_feat = _fast(extract_feat, bf16, compile)
    head.forward = _fast(head_forward, bf16, compile)
    return model
