"""Size and compute of a top-down model, and the host it runs on: what the
demo's report and ``tools/benchmark.py`` both print.

Only torch and MMEngine's counters: counting FLOPs needs no ONNX.
"""
import os
import platform
from typing import Set, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count

from distilpose.models.utils import native_cpu_bf16


def model_complexity(model: torch.nn.Module, input_shape) -> dict:
    """Params (M); GFLOPs as MMEngine counts the model as built (fused
    attention is invisible to it); and true GMACs, counted with every
    ``fused_attn`` switched off so the attention matmuls are seen.
    ``input_shape`` is (3, H, W). The model is put in eval mode."""
    model.eval()
    x = torch.zeros(1, *input_shape)

    def count() -> float:
        analyzer = FlopAnalyzer(model, (x, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return analyzer.total() / 1e9

    fused = [m for m in model.modules() if getattr(m, 'fused_attn', False)]
    # Trace images -> head outputs (backbone, neck, head: the deployed
    # network), as MMPose's get_flops.py does, for the time of the count.
    model.forward = model._forward
    try:
        mmengine_gflops = count()
        for m in fused:
            m.fused_attn = False
        true_gmacs = count()
    finally:
        del model.forward
        for m in fused:
            m.fused_attn = True
    return dict(
        params_m=parameter_count(model)[''] / 1e6,
        gflops_mmengine=mmengine_gflops,
        gmacs_true=true_gmacs)


def input_size_of(cfg) -> tuple:
    """(w, h) of the network input: the test pipeline's ``TopdownAffine``,
    the one place every MMPose top-down config states it (the codec is
    named differently per config)."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    sizes = [t['input_size'] for t in pipeline
             if t['type'] == 'TopdownAffine']
    if len(sizes) != 1:
        raise ValueError('Expected one TopdownAffine in the config\'s test '
                         f'pipeline, found {len(sizes)}: a top-down config '
                         'states its input size there.')
    w, h = sizes[0]
    return w, h


#: The /proc/cpuinfo flags that decide which fast CPU path pays: VNNI
#: (int8 dot products), AVX512-BF16 and AMX (BF16 and int8 tiles).
ISA_FLAGS = ('avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_tile',
             'amx_bf16', 'amx_int8')
#: The CPU classes the speed targets are stated for (``cpu_class``).
CPU_CLASSES = {
    'amx': 'AMX',
    'bf16': 'AVX512-BF16 without AMX',
    'vnni': 'VNNI without BF16',
    'plain': 'neither VNNI, BF16 nor AMX',
}


def read_cpuinfo(path: str = '/proc/cpuinfo') -> Tuple[str, Set[str]]:
    """(model name, flags) of the first processor listed in ``path``;
    ``('', set())`` where there is no such file (not Linux)."""
    name, flags = '', set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name' and not name:
                    name = value.strip()
                elif key == 'flags' and not flags:
                    flags = set(value.split())
                elif not line.strip() and (name or flags):
                    break  # the end of the first processor's block
    except OSError:
        pass
    return name, flags


def cpu_class(flags: Set[str]) -> str:
    """The key of ``CPU_CLASSES`` that the cpuinfo ``flags`` make."""
    if 'amx_tile' in flags:
        return 'amx'
    if 'avx512_bf16' in flags:
        return 'bf16'
    if flags & {'avx512_vnni', 'avx_vnni'}:
        return 'vnni'
    return 'plain'


def machine_name(cpuinfo: str = '/proc/cpuinfo') -> str:
    """CPU model, core count, the vector ISA torch uses, the cpuinfo flags
    that decide the fast paths (``ISA_FLAGS``) and whether BF16 is native
    to torch (a BF16 column means little where it is emulated)."""
    name, flags = read_cpuinfo(cpuinfo)
    name = name or platform.processor() or platform.machine() or 'CPU'
    present = [flag for flag in ISA_FLAGS if flag in flags]
    isa = (f'flags {" ".join(present)}' if present else
           'none of the flags ' + ' '.join(ISA_FLAGS))
    bf16 = {True: ', native BF16', False: ', BF16 emulated (no AVX512-BF16 '
            'or AMX)', None: ''}[native_cpu_bf16()]
    return (f'{name}, {os.cpu_count()} cores, '
            f'{torch.backends.cpu.get_cpu_capability()}, {isa}{bf16}')
