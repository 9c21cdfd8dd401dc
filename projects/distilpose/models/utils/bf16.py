"""BF16 autocast with float32 outputs: how this project runs a network in
BF16 (the inference switch of ``engine.inference_precision`` and the
distiller's opt-in BF16 teacher), so that callers see the tensors they
always do."""
import functools
import warnings
from typing import Callable, Optional

import torch

_warned_emulated = False


@functools.lru_cache(maxsize=None)  # the CPU does not change; per step
def native_cpu_bf16() -> Optional[bool]:
    """Whether this CPU has BF16 instructions (AVX512-BF16 or AMX);
    ``None`` where torch cannot tell (older torch, non-x86 CPUs). Without
    them oneDNN emulates BF16 with float32 instructions, which is slower
    than float32 itself (DistilPose-S and its teacher 2.8-3.0x slower on
    an AVX-512 Xeon without them, docs/benchmark/2026-12-03-record-4-*)."""
    checks = [getattr(torch.cpu, name, None)
              for name in ('_is_avx512_bf16_supported',
                           '_is_amx_tile_supported')]
    if None in checks or not torch.backends.cpu.get_cpu_capability(
    ).startswith('AVX'):
        return None
    return any(check() for check in checks)


def warn_if_bf16_is_emulated() -> None:
    """Warn once per process if BF16 on this CPU would be emulated."""
    global _warned_emulated
    if _warned_emulated or native_cpu_bf16() is not False:
        return
    _warned_emulated = True
    warnings.warn(
        'BF16 on this CPU is emulated: it has neither AVX512-BF16 nor AMX '
        f'({torch.backends.cpu.get_cpu_capability()}), so BF16 runs slower '
        'than float32 here. Use precision fp32 (test_cfg.precision / '
        "teacher_precision='fp32') or the ONNX Runtime INT8 export on this "
        'machine.', stacklevel=3)


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
    its outputs cast back to float32; on a CPU that only emulates BF16, a
    warning (once) that this is slower than float32."""
    if device_type == 'cpu':
        warn_if_bf16_is_emulated()

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.autocast(device_type, dtype=torch.bfloat16):
            return float32_outputs(fn(*args, **kwargs))

    return run
