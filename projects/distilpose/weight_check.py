"""Weights that no trained model has: NaN, inf and absurd magnitudes.

One flipped exponent byte in a float32 weight of a checkpoint (a bad copy,
download or disk) loads without a word and makes every prediction NaN.
:func:`damaged_weights` finds such tensors with one reduction per
floating-point tensor, so the checkpoint loader
(:mod:`distilpose.checkpoint`) can refuse them by name on every route.
"""
from typing import Dict, Optional, Tuple

import torch

#: A floating-point weight of larger magnitude is refused, as NaN and inf
#: are. Trained weights and BatchNorm statistics stay more than 20 orders
#: of magnitude below it, while a flipped high exponent bit turns an
#: ordinary float32 weight into about 1e36 to 1e38, which overflows the
#: layer's output to inf and the keypoints to NaN. (Flips of lower
#: exponent bits give smaller values that no bound can tell from real
#: weights: the model zoo's sha256 catches those.)
MAX_ABS_WEIGHT = 1e30


def weight_tensors(checkpoint) -> Dict[str, torch.Tensor]:
    """The weights of ``checkpoint`` by key: the tensors of a plain state
    dict, and those of each entry (``state_dict``, EMA weights) one level
    down; not the optimizer's state (training state, not the model)."""
    found = {}
    if not isinstance(checkpoint, dict):
        return found
    for key, value in checkpoint.items():
        if isinstance(value, torch.Tensor):
            found[str(key)] = value
        elif isinstance(value, dict) and key != 'optimizer':
            found.update((f'{key}.{k}', v) for k, v in value.items()
                         if isinstance(v, torch.Tensor))
    return found


def damage(tensor: torch.Tensor) -> Optional[str]:
    """'1 of magnitude up to 4.3e+37 of 432 values' for a floating-point
    tensor holding NaN, inf or magnitudes above :data:`MAX_ABS_WEIGHT`;
    else None. One reduction per tensor; the details only for a damaged
    one."""
    if not (tensor.is_floating_point() or tensor.is_complex()) or \
            tensor.numel() == 0 or tensor.layout != torch.strided or \
            tensor.is_meta:
        return None
    values = tensor.detach()
    if values.element_size() == 1:  # float8: no CPU reductions
        values = values.float()
    magnitude = values.abs()
    if bool(magnitude.amax() <= MAX_ABS_WEIGHT):  # False for NaN
        return None
    nan, inf = int(values.isnan().sum()), int(values.isinf().sum())
    finite = magnitude[values.isfinite()]
    huge = finite[finite > MAX_ABS_WEIGHT]
    parts = [f'{n} {kind}' for n, kind in ((nan, 'NaN'), (inf, 'inf')) if n]
    if huge.numel():
        parts.append(f'{huge.numel()} of magnitude up to '
                     f'{float(huge.max()):.2g}')
    return f'{", ".join(parts)} of {values.numel()} values'


def damaged_weights(checkpoint) -> Tuple[Dict[str, str], int]:
    """({key: what is wrong} of the damaged weight tensors, the number of
    weight tensors) of ``checkpoint``."""
    weights = weight_tensors(checkpoint)
    found = {}
    for key, tensor in weights.items():
        problem = damage(tensor)
        if problem:
            found[key] = problem
    return found, len(weights)
