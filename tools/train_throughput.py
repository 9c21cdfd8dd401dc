"""Training throughput of a config on this CPU, against its FLOP bound.

    python tools/train_throughput.py CONFIG [--iters 30] [--threads 1]
                                     [--cfg-options KEY=VALUE ...]

Builds the config's model, optimiser and train dataloader as MMEngine's
runner does, then measures images per second of:

- ``data``: the dataloader alone (loading, decoding, the pipeline, workers);
- ``step``: ``model.train_step`` on batches already loaded (the compute:
  forward, backward, optimiser; a distiller's teacher forward included);
- ``loop``: the two together, as training runs them.

The bound is the machine's SGEMM peak (measured here at the same threads)
over the FLOPs of one training image: forward + backward (3x the forward)
of the trained network, plus the frozen teacher's forward for a distiller.
Every multiply-add counts two FLOPs, attention matmuls included. Run two of
these side by side to see the demo's layout (student and baseline at one
thread each).
"""
import argparse
import time

import torch
from benchmarking.analysis import input_size_of, model_complexity
from benchmarking.inference import gemm_peaks
from benchmarking.timing import QuietTimer
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import MODELS

from distilpose.models.utils import init_weights_quietly


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=30,
                        help='timed iterations of each measurement')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (the demo: 1 per run)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    return parser.parse_args(argv)


def train_gflops_per_image(model, input_size) -> float:
    """Forward + backward of the trained network, plus a teacher's
    forward (no backward: it is frozen)."""
    shape = (3, input_size[1], input_size[0])
    gflops = 3 * 2 * model_complexity(model, shape)['gmacs_true']
    teacher = getattr(model, 'teacher', None)
    if teacher is not None:
        gflops += 2 * model_complexity(teacher, shape)['gmacs_true']
    model.train()
    return gflops


def images_per_s(fn, batches, iters: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return batches * iters / (time.perf_counter() - start)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmpose')

    # Only the table on stdout, not MMEngine's per-parameter init report.
    model = init_weights_quietly(MODELS.build(cfg.model))
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch_size = loader.batch_size
    input_size = input_size_of(cfg)

    def endless():
        while True:
            yield from loader

    batches = endless()
    data = images_per_s(lambda: next(batches), batch_size, args.iters,
                        args.warmup)
    cached = [next(batches) for _ in range(4)]
    count = iter(range(10**9))
    step = images_per_s(
        lambda: model.train_step(cached[next(count) % len(cached)],
                                 optim_wrapper), batch_size, args.iters,
        args.warmup)
    loop = images_per_s(
        lambda: model.train_step(next(batches), optim_wrapper), batch_size,
        args.iters, args.warmup)
    gflops = train_gflops_per_image(model, input_size)
    peak = gemm_peaks(QuietTimer(max_wait=0), args.threads,
                      precisions=('fp32', ))['fp32']
    bound = peak / gflops

    workers = cfg.train_dataloader.get('num_workers', 0)
    print(f'{args.config}\n  batch {batch_size}, {args.threads} thread(s), '
          f'{workers} dataloader worker(s); {gflops:.3f} GFLOP per training '
          f'image; SGEMM peak {peak:.0f} GFLOP/s')
    print('| what | images/s | of the FLOP bound |')
    print('|---|---|---|')
    for name, value in (('data', data), ('step', step), ('loop', loop),
                        ('FLOP bound', bound)):
        print(f'| {name} | {value:.1f} | {value / bound:.0%} |')


if __name__ == '__main__':
    main()
