"""BF16 autocast with float32 outputs: how this project runs a network in
BF16 (the inference switch of ``engine.inference_precision`` and the
distiller's opt-in BF16 teacher), so that callers see the tensors they
always do."""
import functools
from typing import Callable

import torch


def float32_outputs(out):
    """``out`` with every floating tensor in it (nested in lists and
    tuples) cast to float32."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (list, tuple)):
        return type(out)(float32_outputs(o) for o in out)
    return out


def in_bf16(fn: Callable, device_type: str = 'cpu') -> Callable:
    """``fn`` run under ``torch.autocast(device_type, torch.bfloat16)``,
    its outputs cast back to float32."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.autocast(device_type, dtype=torch.bfloat16):
            return float32_outputs(fn(*args, **kwargs))

    return run
