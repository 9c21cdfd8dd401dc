"""Training throughput of a config, on this CPU (against its FLOP bound)
or on a GPU.

    python tools/train_throughput.py CONFIG [--device cpu|cuda]
        [--iters 30] [--warmup 3] [--threads 1] [--batch N]
        [--amp bf16|fp16] [--channels-last] [--random-teacher]
        [--cfg-options KEY=VALUE ...]

Builds the config's model, optimiser and train dataloader as MMEngine's
runner does, then measures images per second of:

- ``data``: the dataloader alone (loading, decoding, the pipeline,
  workers), and per worker;
- ``step``: ``model.train_step`` on batches already loaded (the compute:
  forward, backward, optimiser; a distiller's teacher forward included);
- ``loop``: the two together, as training runs them.

On the CPU (``--device cpu``, the default) the bound is the machine's SGEMM
peak (measured here at the same threads) over the FLOPs of one training
image: forward + backward (3x the forward) of the trained network, plus the
frozen teacher's forward for a distiller. Every multiply-add counts two
FLOPs, attention matmuls included. Run two of these side by side to see the
demo's layout (student and baseline at one thread each).

On the GPU (``--device cuda``) each rate comes with its peak GPU memory
(``torch.cuda.max_memory_allocated``), and a distiller's step is split:
the distillation step, the frozen teacher's forward alone, and a step of
the same student alone (the config's model without its teacher);
``--breakdown`` prints that table on the CPU too.

``--amp`` trains with MMEngine's ``AmpOptimWrapper`` (GPU only);
``--channels-last`` as ``ChannelsLastHook`` switches it;
``--random-teacher`` saves the teacher with random weights to a temporary
checkpoint (speed does not depend on them), for configs whose teacher
checkpoint is not on this machine.
"""
import argparse
import itertools
import os.path as osp
import tempfile
import time

import torch
from benchmarking.analysis import input_size_of, machine_name, model_complexity
from benchmarking.gpu import cuda_refusal, synchronize
from benchmarking.inference import gemm_peaks
from benchmarking.timing import QuietTimer
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import MODELS

from distilpose.models.distillers.teacher import load_teacher_model_cfg
from distilpose.models.utils import init_weights_quietly
from distilpose.runtime.hooks.channels_last_hook import to_channels_last

#: The distiller's own arguments: without them its config is the student's.
DISTILLER_KEYS = ('teacher_cfg', 'teacher_ckpt', 'distill_losses',
                  'init_backbone_from_teacher', 'teacher_precision')
AMP_DTYPES = dict(bf16='bfloat16', fp16='float16')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--iters', type=int, default=30,
                        help='timed iterations of each measurement')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (the demo: 1 per run)')
    parser.add_argument('--batch', type=int,
                        help="the training batch (default: the config's)")
    parser.add_argument(
        '--amp',
        choices=sorted(AMP_DTYPES),
        help="MMEngine's AmpOptimWrapper in this precision (GPU only)")
    parser.add_argument('--channels-last', action='store_true',
                        help='the model and images in channels_last')
    parser.add_argument(
        '--random-teacher',
        action='store_true',
        help="a distiller's teacher with random weights instead of "
        'model.teacher_ckpt')
    parser.add_argument(
        '--breakdown',
        action='store_true',
        help="on the CPU, the GPU's table (teacher forward, student-alone "
        'step) instead of the FLOP bound; always on with --device cuda')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    args = parser.parse_args(argv)
    refusal = cuda_refusal(args.device)
    if refusal:
        parser.error(refusal)
    if args.amp and args.device != 'cuda':
        parser.error(f'--amp {args.amp} needs --device cuda: MMEngine\'s '
                     'AmpOptimWrapper trains on GPUs only. On a CPU, BF16 '
                     "is the teacher's: --cfg-options "
                     'model.teacher_precision=bf16.')
    return args


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


def measure(fn, device, iters: int, warmup: int):
    """(images/s, peak GPU MiB or None) of ``fn``, which returns the
    number of images it processed: ``warmup`` calls, then ``iters`` timed
    ones, the GPU queue drained at both ends."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    images = sum(fn() for _ in range(iters))
    synchronize(device)
    seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated(device) / 2**20
            if device.type == 'cuda' else None)
    return images / seconds, peak


def random_teacher_ckpt(cfg, workdir: str) -> str:
    """A checkpoint of the config's teacher with random weights."""
    if 'teacher_cfg' not in cfg.model:
        raise SystemExit(f'--random-teacher: {cfg.filename} has no teacher '
                         '(model.teacher_cfg); leave the option out.')
    teacher_cfg = load_teacher_model_cfg(cfg.model.teacher_cfg)
    teacher_cfg.get('backbone', {}).pop('init_cfg', None)
    path = osp.join(workdir, 'random_teacher.pth')
    torch.save(dict(state_dict=MODELS.build(teacher_cfg).state_dict()), path)
    return path


def build(cfg, model_cfg, device, channels_last):
    model = init_weights_quietly(MODELS.build(model_cfg)).to(device)
    if channels_last:
        to_channels_last(model)
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def step_fn(model, optim_wrapper, batches):
    """One ``train_step`` per call on ``batches`` in turn (an iterator or
    a list cycled); returns its images."""
    if isinstance(batches, list):
        batches = itertools.cycle(batches)

    def run():
        batch = next(batches)
        model.train_step(batch, optim_wrapper)
        return len(batch['inputs'])

    return run


def table(rows) -> str:
    lines = ['| what | images/s | ' + ' | '.join(rows[0][2:]) + ' |',
             '|---|---|' + '---|' * len(rows[0][2:])]
    for name, value, *rest in rows[1:]:
        lines.append(f'| {name} | {value} | ' + ' | '.join(rest) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.batch:
        cfg.train_dataloader.batch_size = args.batch
    if args.amp:
        cfg.optim_wrapper.update(type='AmpOptimWrapper',
                                 dtype=AMP_DTYPES[args.amp])
    init_default_scope('mmpose')
    with tempfile.TemporaryDirectory(prefix='throughput-') as tmp:
        if args.random_teacher:
            cfg.model.teacher_ckpt = random_teacher_ckpt(cfg, tmp)
        # Only the tables on stdout, not MMEngine's per-parameter init
        # report.
        model, optim_wrapper = build(cfg, cfg.model, device,
                                     args.channels_last)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch_size, workers = loader.batch_size, loader.num_workers
    if len(loader.dataset) < batch_size:
        print(f'The dataset holds {len(loader.dataset)} samples, fewer than '
              f'the batch of {batch_size}: every batch is smaller (the '
              'rates count the images actually processed).')

    def endless():
        while True:
            yield from loader

    batches = endless()
    data = measure(lambda: len(next(batches)['inputs']), device, args.iters,
                   args.warmup)
    cached = [next(batches) for _ in range(4)]
    step = measure(step_fn(model, optim_wrapper, cached), device, args.iters,
                   args.warmup)
    per_worker = (f'{data[0] / workers:.1f} per worker' if workers else
                  'in the main process')
    header = (f'{args.config}\n  batch {batch_size}, {workers} dataloader '
              f'worker(s); ')
    if device.type == 'cpu' and not args.breakdown:
        loop = measure(step_fn(model, optim_wrapper, batches), device,
                       args.iters, args.warmup)
        gflops = train_gflops_per_image(model, input_size_of(cfg))
        peak = gemm_peaks(QuietTimer(max_wait=0), args.threads,
                          precisions=('fp32', ))['fp32']
        bound = peak / gflops
        print(header + f'{args.threads} thread(s); {gflops:.3f} GFLOP per '
              f'training image; SGEMM peak {peak:.0f} GFLOP/s; data '
              f'{per_worker}')
        print(table([('', '', 'of the FLOP bound')] + [
            (name, f'{value:.1f}', f'{value / bound:.0%}')
            for name, value in (('data', data[0]), ('step', step[0]),
                                ('loop', loop[0]), ('FLOP bound', bound))
        ]))
        return
    distiller = hasattr(model, 'teacher_forward')
    rows = [('data', (data[0], None), per_worker)]  # no GPU memory
    if distiller:
        inputs = model.data_preprocessor(cached[0], True)['inputs']
        teacher = measure(
            lambda: len(model.teacher_forward(inputs)[2]), device,
            args.iters, args.warmup)
        rows += [('distillation step', step, 'cached batches'),
                 ('teacher forward', teacher, 'no grad, part of the step')]
        del inputs
    else:
        rows.append(('step', step, 'cached batches'))
    loop = measure(step_fn(model, optim_wrapper, batches), device,
                   args.iters, args.warmup)
    rows.append(('loop', loop, 'data + step, as training runs them'))
    if distiller:
        del model, optim_wrapper
        if device.type == 'cuda':
            torch.cuda.empty_cache()
        student_cfg = {k: v for k, v in cfg.model.items()
                       if k not in DISTILLER_KEYS}
        student_cfg['type'] = 'TopdownPoseEstimator'
        student, student_optim = build(cfg, student_cfg, device,
                                       args.channels_last)
        rows.append(('student-alone step',
                     measure(step_fn(student, student_optim, cached),
                             device, args.iters, args.warmup),
                     'the same student without the teacher'))
    optim = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim == 'AmpOptimWrapper':
        optim += f" {cfg.optim_wrapper.get('dtype') or 'float16'}"
    name = (torch.cuda.get_device_name(device)
            if device.type == 'cuda' else machine_name())
    print(header + f'{name}; {optim}'
          f'{", channels_last" if args.channels_last else ""}')
    print(table([('', '', 'peak GPU memory (MiB)', 'note')] + [
        (name, f'{ips:.1f}', '-' if mib is None else f'{mib:.0f}', note)
        for name, (ips, mib), note in rows
    ]))


if __name__ == '__main__':
    main()
