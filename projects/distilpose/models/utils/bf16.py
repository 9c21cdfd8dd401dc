"""BF16 autocast with float32 outputs: how this project runs a network in
BF16 (the inference switch of ``test_cfg.precision`` and the distiller's
opt-in BF16 teacher), so that callers see the tensors they always do.

The autocast device is that of the tensors a call runs on (``cpu``,
``cuda``, ...), not fixed: the same wrapped function runs in BF16 on a CPU
and on a GPU, after ``model.to('cuda')`` too.
"""
import functools
import warnings
from typing import Callable, Optional

import torch

# Whether the emulated-BF16 warning was given, on a CPU and on a GPU.
_warned_emulated = False
_warned_cuda = False


@functools.lru_cache(maxsize=None)  # the CPU does not change; per step
def native_cpu_bf16() -> Optional[bool]:
    """Whether this CPU has BF16 instructions (AVX512-BF16 or AMX);
    ``None`` where torch cannot tell (older torch, non-x86 CPUs). Without
    them oneDNN emulates BF16 with float32 instructions, which is slower
    than float32 itself (DistilPose-S and its teacher 2.8-3.0x slower on
    an AVX-512 Xeon without them; docs/performance.md)."""
    checks = [getattr(torch.cpu, name, None)
              for name in ('_is_avx512_bf16_supported',
                           '_is_amx_tile_supported')]
    if None in checks or not torch.backends.cpu.get_cpu_capability(
    ).startswith('AVX'):
        return None
    return any(check() for check in checks)


@functools.lru_cache(maxsize=None)
def native_cuda_bf16() -> bool:
    """Whether this GPU computes in BF16 natively (compute capability 8.0,
    Ampere, and later); older GPUs emulate it, slower than float32."""
    return torch.cuda.is_bf16_supported(including_emulation=False)


def warn_if_bf16_is_emulated(device_type: str = 'cpu') -> None:
    """Warn once per process if BF16 on this CPU (``device_type='cpu'``)
    or GPU (``'cuda'``) would be emulated, slower than float32."""
    global _warned_emulated, _warned_cuda
    if device_type == 'cpu' and not _warned_emulated and \
            native_cpu_bf16() is False:
        _warned_emulated = True
        warnings.warn(
            'BF16 on this CPU is emulated: it has neither AVX512-BF16 nor '
            f'AMX ({torch.backends.cpu.get_cpu_capability()}), so BF16 runs '
            'slower than float32 here. Use precision fp32 '
            "(test_cfg.precision / teacher_precision='fp32') or the ONNX "
            'Runtime INT8 export on this machine.', stacklevel=3)
    elif device_type == 'cuda' and not _warned_cuda and \
            not native_cuda_bf16():
        _warned_cuda = True
        warnings.warn(
            f'BF16 on this GPU ({torch.cuda.get_device_name()}) is '
            'emulated: it needs compute capability 8.0 (Ampere) or later, '
            'so BF16 runs slower than float32 here. Use precision fp32 '
            "(test_cfg.precision / teacher_precision='fp32'), or "
            "AmpOptimWrapper with dtype='float16' for training.",
            stacklevel=3)


def float32_outputs(out):
    """``out`` with every floating tensor in it (nested in lists and
    tuples) cast to float32."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (list, tuple)):
        return type(out)(float32_outputs(o) for o in out)
    return out


def device_type_of(*args, **kwargs) -> str:
    """The device type (``'cpu'``, ``'cuda'``, ...) of the first tensor
    in the arguments (nested in lists, tuples and dicts); ``'cpu'`` if
    there is none."""
    stack = list(args) + list(kwargs.values())
    while stack:
        item = stack.pop(0)
        if isinstance(item, torch.Tensor):
            return item.device.type
        if isinstance(item, (list, tuple)):
            stack[:0] = list(item)
        elif isinstance(item, dict):
            stack[:0] = list(item.values())
    return 'cpu'


def in_bf16(fn: Callable, device_type: Optional[str] = None) -> Callable:
    """``fn`` run under ``torch.autocast(device, torch.bfloat16)``, its
    outputs cast back to float32. ``device`` is ``device_type`` if given,
    else that of the call's tensor arguments (:func:`device_type_of`). On
    a CPU or GPU that only emulates BF16, a warning (once) that this is
    slower than float32."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        device = device_type or device_type_of(*args, **kwargs)
        if not torch.compiler.is_compiling():
            warn_if_bf16_is_emulated(device)
        with torch.autocast(device, dtype=torch.bfloat16):
            return float32_outputs(fn(*args, **kwargs))

    return run


def in_fp32(fn: Callable, device_type: Optional[str] = None) -> Callable:
    """``fn`` run in float32 with autocast off (inside a mixed-precision
    step too), its outputs cast to float32: what a frozen fp32 network
    such as the distiller's teacher needs under ``AmpOptimWrapper``."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        device = device_type or device_type_of(*args, **kwargs)
        with torch.autocast(device, enabled=False):
            return float32_outputs(fn(*args, **kwargs))

    return run
