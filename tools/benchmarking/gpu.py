"""Inference speed on a GPU (``tools/benchmark.py --device cuda``): latency
at batch 1 and throughput at a large batch, in fp32, BF16 and fp16, timed
with CUDA events after warm-up calls, and the peak GPU memory of each case
(torch's allocator).

- fp32: PyTorch's defaults (cuDNN convolutions may use TF32, matmuls do
  not; the report names the flags);
- BF16: ``test_cfg.precision='bf16'`` as the project switches it
  (:func:`set_inference_precision`: autocast on the inputs' device, the
  outputs cast back to float32);
- fp16: ``torch.autocast(dtype=torch.float16)`` around the network, a
  reference (no config switch: BF16 has fp32's range).

The same functions run on a CPU (wall clock, no memory figures): that is
how the tests check this path on machines without a GPU.
"""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from distilpose.deploy import TopdownNetwork
from distilpose.models.utils import set_inference_precision

from .analysis import machine_name, model_complexity
from .models import INPUT, build

PRECISIONS = ('fp32', 'bf16', 'fp16')
TITLES = dict(fp32='fp32', bf16='BF16', fp16='fp16')


def cuda_refusal(device: str) -> Optional[str]:
    """Why ``device`` cannot be used on this machine, or None."""
    if device == 'cuda' and not torch.cuda.is_available():
        built = torch.version.cuda or 'none (a CPU-only build)'
        return (f'--device cuda: torch sees no CUDA GPU on this machine '
                f'(torch {torch.__version__}, built for CUDA {built}; '
                'torch.cuda.is_available() is False). Run it on a GPU '
                'machine, or use --device cpu.')
    return None


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_calls(fn: Callable, device: torch.device, warmup: int,
               reps: int) -> List[float]:
    """Seconds of each of ``reps`` calls of ``fn``, after ``warmup``
    calls: CUDA events around each call on a GPU (the queue drained
    first, so each call is timed alone), the wall clock on a CPU."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(reps):
        if device.type == 'cuda':
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return times


def peak_memory_mib(fn: Callable, device: torch.device) -> Optional[float]:
    """Peak memory allocated on the GPU during one call of ``fn`` (MiB,
    the weights and everything else resident included); None on a CPU."""
    if device.type != 'cuda':
        return None
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    synchronize(device)
    return torch.cuda.max_memory_allocated(device) / 2**20


def network_runner(model: torch.nn.Module, precision: str,
                   x: torch.Tensor) -> Callable:
    """One forward pass, images -> head outputs, in ``precision`` (the
    model switched by :func:`switch` beforehand)."""
    net = TopdownNetwork(model).eval()
    fp16 = precision == 'fp16'

    def run():
        with torch.inference_mode(), torch.autocast(
                x.device.type, dtype=torch.float16, enabled=fp16):
            return net(x)

    return run


def switch(model: torch.nn.Module, precision: str) -> None:
    """The project's inference switch for BF16, plain fp32 otherwise."""
    set_inference_precision(model, 'bf16' if precision == 'bf16' else 'fp32')


def measure(configs: Dict[str, str], device: str, batch: int,
            precisions: Sequence[str] = PRECISIONS, warmup: int = 5,
            reps: int = 20, big_reps: int = 8) -> dict:
    """Every model at batch 1 (``reps`` timed calls) and ``batch``
    (``big_reps``), in each of ``precisions``, as JSON-ready samples. A
    case that runs out of GPU memory is skipped, and says so."""
    device = torch.device(device)
    res = dict(device=device.type, gpu=gpu_name(device), versions=versions(),
               input=INPUT, batch=batch, warmup=warmup, reps=reps,
               big_reps=big_reps, precisions=list(precisions), models={})
    for name, config in configs.items():
        print(f'building {name}', flush=True)
        model = build(config)
        complexity = model_complexity(model, INPUT)  # on the CPU
        model.to(device)
        cases = {}
        for precision in precisions:
            switch(model, precision)
            for n, calls in ((1, reps), (batch, big_reps)):
                x = torch.randn(n, *INPUT, device=device)
                run = network_runner(model, precision, x)
                key = f'{precision}|{n}'
                try:
                    cases[key] = dict(
                        seconds=time_calls(run, device, warmup, calls),
                        peak_mib=peak_memory_mib(run, device))
                except torch.cuda.OutOfMemoryError:
                    cases[key] = None
                    print(f'  {name}, {precision}, batch {n}: out of GPU '
                          'memory, skipped (a smaller --batch fits)',
                          flush=True)
                del x, run
                if device.type == 'cuda':
                    torch.cuda.empty_cache()
            print(f'  {name} {precision} done', flush=True)
        switch(model, 'fp32')
        res['models'][name] = dict(complexity=complexity, cases=cases)
        del model
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    return res


def gpu_name(device: torch.device) -> str:
    if device.type != 'cuda':
        return machine_name()
    props = torch.cuda.get_device_properties(device)
    return (f'{props.name} ({props.total_memory / 2**30:.0f} GiB, compute '
            f'capability {props.major}.{props.minor})')


def versions() -> str:
    text = f'torch {torch.__version__}'
    if torch.cuda.is_available():
        text += (f', CUDA {torch.version.cuda}, cuDNN '
                 f'{torch.backends.cudnn.version()}; cuDNN benchmark '
                 f'{"on" if torch.backends.cudnn.benchmark else "off"}, '
                 'TF32 matmul '
                 f'{"on" if torch.backends.cuda.matmul.allow_tf32 else "off"}'
                 f' / convolutions '
                 f'{"on" if torch.backends.cudnn.allow_tf32 else "off"}')
    return text


def _cell(values: List[Optional[float]], fmt: str) -> str:
    return ' / '.join('OOM' if v is None else format(v, fmt)
                      for v in values)


def report(res: dict) -> str:
    """The Markdown table of :func:`measure`'s results."""
    big, precisions = res['batch'], res['precisions']
    titles = ' / '.join(TITLES[p] for p in precisions)

    def stat(model, precision, n, what):
        case = model['cases'].get(f'{precision}|{n}')
        if case is None:
            return None
        median = statistics.median(case['seconds'])
        return dict(ms=1e3 * median, ips=n / median,
                    mib=case['peak_mib'])[what]

    head = ['Model', 'Params (M)', 'GMACs (with attn)',
            f'Latency b1 (ms) {titles}', f'Images/s b{big} {titles}']
    if 'bf16' in precisions and 'fp32' in precisions:
        head.append(f'BF16 / fp32 speed-up b1 / b{big}')
    memory = res['device'] == 'cuda'
    if memory:
        head.append(f'Peak memory b{big} (MiB) {titles}')
    lines = []
    for name, model in res['models'].items():
        info = model['complexity']
        row = [name, f'{info["params_m"]:.1f}', f'{info["gmacs_true"]:.2f}',
               _cell([stat(model, p, 1, 'ms') for p in precisions], '.2f'),
               _cell([stat(model, p, big, 'ips') for p in precisions],
                     '.0f')]
        if 'bf16' in precisions and 'fp32' in precisions:
            ups = []
            for n in (1, big):
                a, b = (stat(model, p, n, 'ms') for p in ('fp32', 'bf16'))
                ups.append(None if a is None or b is None else a / b)
            row.append(' / '.join('-' if u is None else f'{u:.2f}x'
                                  for u in ups))
        if memory:
            row.append(_cell([stat(model, p, big, 'mib')
                              for p in precisions], '.0f'))
        lines.append(row)
    table = '\n'.join(
        ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)] +
        ['| ' + ' | '.join(r) + ' |' for r in lines])
    timer = 'CUDA events' if memory else 'the wall clock'
    return (f'Device: {res["gpu"]}; {res["versions"]}.\n'
            f'Random weights, input {res["input"][1]}x{res["input"][2]}; '
            f'median of {res["reps"]} calls at batch 1 and {res["big_reps"]} '
            f'at batch {big}, after {res["warmup"]} warm-up calls, timed '
            f'with {timer}; backbone -> neck -> head. BF16: '
            "test_cfg.precision='bf16'; fp16: autocast (no config switch)."
            f'\n\n{table}\n')
