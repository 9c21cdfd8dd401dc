"""Peak resident memory of inference, measured in fresh processes.

Torch's CPU allocator and ONNX Runtime's arena are invisible to
tracemalloc, and a long-lived process keeps freed pages, so each model and
engine runs in a child process of its own.
"""
import concurrent.futures as cf
import functools
import multiprocessing as mp
from typing import Dict, Sequence

import torch

from distilpose.deploy import create_session

from .inference import ort_runner, torch_network, torch_runner
from .models import build


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in KiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def memory_probe(config: str, onnx_path: str, batches: Sequence[int],
                 threads: int, input_shape: Sequence[int]) -> Dict[int, float]:
    """Peak resident memory (MiB) of one model on one engine: eager from
    ``config``, or ONNX Runtime from ``onnx_path`` when that is given.

    Run it in a fresh process: the peak (VmHWM) minus the resident size
    before the model or session exists. Weights, activations and runtime
    caches are all counted; the high-water mark is reset
    (``/proc/self/clear_refs``) after building, so transient build-time
    allocations are not.
    """
    torch.set_num_threads(threads)
    base = status_kib('VmRSS')
    if onnx_path:
        runner = functools.partial(ort_runner,
                                   create_session(onnx_path, threads))
    else:
        runner = functools.partial(torch_runner,
                                   torch_network(build(config), 'eager'))
    peaks = {}
    for n in batches:
        x = torch.randn(n, *input_shape)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        runner(x)()
        peaks[n] = (status_kib('VmHWM') - base) / 1024
    return peaks


def measure_memory(configs: Dict[str, str], onnx_paths: Dict[str, str],
                   batches: Sequence[int], threads: int,
                   input_shapes: Dict[str, Sequence[int]]) -> Dict[str, dict]:
    """{model: {'eager': {batch: MiB}, 'ort': {batch: MiB}}}, one spawned
    process per model and engine; ``input_shapes``: (C, H, W) per model."""
    ctx = mp.get_context('spawn')
    out = {}
    with cf.ProcessPoolExecutor(
            1, mp_context=ctx, max_tasks_per_child=1) as pool:
        for name, config in configs.items():
            out[name] = {
                engine: pool.submit(memory_probe, config, path, batches,
                                    threads, input_shapes[name]).result()
                for engine, path in (('eager', ''),
                                     ('ort', onnx_paths[name]))
            }
    return out
