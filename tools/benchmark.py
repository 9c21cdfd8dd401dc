"""Speed of DistilPose against its teacher and MMPose peers, on this CPU
or a GPU.

    python tools/benchmark.py [--out results/benchmark] [--rounds 5]
                              [--models NAME_OR_CONFIG ...]
                              [--reference NAME] [--quick] [--no-train]
                              [--no-memory] [--no-compile] [--max-wait 30]
    python tools/benchmark.py --device cuda [--batch 256] [--warmup 5]
                              [--reps 20] [--precisions fp32 bf16 fp16]
                              [--models ...] [--out ...]

Models (default: the catalogue of ``benchmarking/models.py``: DistilPose-S
and -L, the TokenPose HRNet-W48 teacher, and RTMPose-s, HRNet-W32 and
RLE-R50 from MMPose's own configs; or any top-down config), all with
random weights (speed does not depend on the values). For each:
parameters; GFLOPs as MMEngine counts them (a multiply-add is one FLOP;
fused attention is invisible to it) and true GMACs (attention matmuls
included); median latency at batch 1 and 32 on every CPU path: PyTorch
eager fp32, ``torch.compile`` and BF16 autocast (as ``model.test_cfg``
switches them), ONNX Runtime fp32 and INT8 (as ``tools/export_onnx.py
--int8`` writes it), in interleaved rounds with contention checks
(``benchmarking/timing.py``), each against its FLOP bound (true MACs at
the GEMM peak of its precision, measured here); peak memory in child
processes. The training side times a DistilPose-S distillation step
against a student-alone step. What the numbers are measured against (the
project's targets) is in docs/performance.md.

Writes ``benchmark.md`` (what is printed), ``benchmark.json`` (every sample)
and ``benchmark.png`` to ``--out``.

``--device cuda`` times the same models on the GPU instead
(``benchmarking/gpu.py``): latency at batch 1 and images/s at ``--batch``
(default 256) in fp32, BF16 (``test_cfg.precision='bf16'``) and fp16
autocast, with CUDA events after warm-up, and peak GPU memory; it writes
``benchmark_cuda.md`` and ``benchmark_cuda.json``. Training on the GPU:
``tools/train_throughput.py --device cuda``.
"""
import argparse
import json
import os
import os.path as osp
import tempfile
import time

import onnxruntime as ort
import torch
from benchmarking import gpu
from benchmarking.analysis import machine_name, model_complexity
from benchmarking.inference import (TORCH_ENGINES, gemm_peaks, ort_runner,
                                    torch_network, torch_runner)
from benchmarking.memory import measure_memory
from benchmarking.models import CATALOGUE, INPUT, build, resolve
from benchmarking.report import ENGINES, report
from benchmarking.timing import QuietTimer, interleaved
from benchmarking.training import training_runners

from distilpose.deploy import (MIN_CALIB_CROPS, create_session, export_onnx,
                               quantize_int8)

THREADS = 2


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='results/benchmark')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        default='cpu',
        help='cpu (default): every CPU path, as above; cuda: PyTorch on the '
        'GPU in fp32, BF16 and fp16')
    parser.add_argument('--rounds', type=int, default=5,
                        help='interleaved rounds of inference timing (CPU)')
    parser.add_argument(
        '--reps',
        type=int,
        default=None,
        help='batch-1 calls per case and round (CPU, default 5); timed '
        'batch-1 calls per case (GPU, default 20)')
    parser.add_argument('--batch', type=int, default=None,
                        help='the large inference batch (default: 32 on the '
                        'CPU, 256 on the GPU)')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed calls before each GPU case')
    parser.add_argument('--precisions', nargs='+', choices=gpu.PRECISIONS,
                        default=list(gpu.PRECISIONS),
                        help='the GPU precisions timed')
    parser.add_argument('--train-batch', type=int, default=32)
    parser.add_argument('--train-rounds', type=int, default=3)
    parser.add_argument(
        '--models',
        nargs='+',
        default=list(CATALOGUE),
        metavar='MODEL',
        help='catalogue names (' + ', '.join(CATALOGUE) + ') or paths of '
        'top-down configs')
    parser.add_argument(
        '--reference',
        help='the model speed-ups are given against (default: the '
        'TokenPose teacher when timed, else the first model)')
    parser.add_argument(
        '--max-wait',
        type=float,
        default=30.,
        help='most seconds to wait for idle CPUs per timed case (the '
        'machine may be shared); 0 turns the contention checks off')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 2 rounds, 2 reps, batch 4')
    parser.add_argument('--no-train', action='store_true')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument(
        '--no-compile',
        action='store_true',
        help='leave out torch.compile (its first call compiles, 30 s or '
        'more per model and batch size)')
    args = parser.parse_args(argv)
    refusal = gpu.cuda_refusal(args.device)
    if refusal:
        parser.error(refusal)
    cuda = args.device == 'cuda'
    if args.reps is None:
        args.reps = 20 if cuda else 5
    if args.batch is None:
        args.batch = 256 if cuda else 32
    if args.quick:
        args.rounds = args.reps = args.train_rounds = 2
        args.batch = args.train_batch = 4
        args.warmup = 1
    try:
        args.configs = resolve(args.models)
    except ValueError as err:
        parser.error(str(err))
    if args.reference is None:
        teacher = 'TokenPose teacher'
        args.reference = (teacher if teacher in args.configs else
                          next(iter(args.configs)))
    elif args.reference not in args.configs:
        parser.error(f'--reference {args.reference!r} is not among the '
                     f'timed models ({", ".join(args.configs)}).')
    return args


def run(args) -> dict:
    """Every measurement, as JSON-ready samples."""
    torch.set_num_threads(THREADS)
    big = args.batch
    res = dict(
        load_start=os.getloadavg(),
        machine=machine_name(),
        versions=f'torch {torch.__version__}, '
        f'onnxruntime {ort.__version__}',
        input=INPUT,
        batch=big,
        rounds=args.rounds,
        reps=args.reps,
        train_batch=args.train_batch,
        complexity={})
    res['engines'] = engines = [
        e for e in ENGINES if not (args.no_compile and e == 'compiled')
    ]
    tmp = tempfile.mkdtemp(prefix='benchmark-')
    timer = QuietTimer(args.max_wait)
    runners, reps, onnx_paths = {}, {}, {}
    for name, config in args.configs.items():
        print(f'building {name}', flush=True)
        model = build(config)
        res['complexity'][name] = model_complexity(model, INPUT)
        onnx_paths[name] = export_onnx(model, osp.join(tmp, f'{name}.onnx'))
        # INT8 as tools/export_onnx.py --int8 makes it: fused attention,
        # calibrated on random crops (speed does not depend on the ranges).
        int8 = quantize_int8(
            export_onnx(model, osp.join(tmp, f'{name}.fused.onnx'),
                        fused_attention=True),
            osp.join(tmp, f'{name}.int8.onnx'),
            torch.randn(MIN_CALIB_CROPS, *INPUT).numpy())
        # One network or session per engine, for both batch sizes.
        targets = dict(ort=create_session(onnx_paths[name], THREADS),
                       ort_int8=create_session(int8, THREADS))
        targets.update({
            engine: torch_network(model, engine)
            for engine in engines if engine in TORCH_ENGINES
        })
        for n in (1, big):
            x = torch.randn(n, *INPUT)
            for engine in engines:
                key = f'{name}|{engine}|{n}'
                runners[key] = (torch_runner if engine in TORCH_ENGINES else
                                ort_runner)(targets[engine], x)
                reps[key] = args.reps if n == 1 else 1
    peaks = gemm_peaks(timer, THREADS)
    print(f'timing {len(runners)} cases x {args.rounds} rounds (the '
          'warm-up compiles the compiled ones)', flush=True)
    res['latency'] = interleaved(runners, args.rounds, timer, reps)
    res['gemm_peaks'] = {k: max(v, peaks[k])
                         for k, v in gemm_peaks(timer, THREADS).items()}
    del runners
    if not args.no_train:
        print('timing training steps', flush=True)
        res['training'] = interleaved(
            training_runners(args.train_batch, tmp), args.train_rounds, timer)
    if not args.no_memory:
        print('measuring peak memory (one process per model and engine)',
              flush=True)
        res['memory'] = measure_memory(args.configs, onnx_paths, (1, big),
                                       THREADS)
    res['load_end'] = os.getloadavg()
    res['contention'] = timer.summary()
    return res


def run_gpu(args) -> str:
    """The GPU tables (``benchmarking/gpu.py``), written to ``--out``."""
    cpu_only = [flag for flag, on in (('--no-train', args.no_train),
                                      ('--no-memory', args.no_memory),
                                      ('--no-compile', args.no_compile))
                if on]
    if cpu_only:
        print(f'{", ".join(cpu_only)}: CPU options, without effect on '
              'the GPU (which times no training and no torch.compile)')
    torch.backends.cudnn.benchmark = True  # fixed shapes: the best kernels
    res = gpu.measure(args.configs, args.device, args.batch,
                      args.precisions, args.warmup, args.reps,
                      big_reps=max(2, min(args.reps, 8)))
    text = gpu.report(res)
    with open(osp.join(args.out, 'benchmark_cuda.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(args.out, 'benchmark_cuda.md'), 'w') as f:
        f.write(text)
    return text


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    if args.device == 'cuda':
        print('\n' + run_gpu(args))
        print(f'(ran {time.perf_counter() - start:.0f} s; written to '
              f'{args.out}/benchmark_cuda.md, .json)')
        return
    res = run(args)
    text = report(res, args.reference, THREADS,
                  osp.join(args.out, 'benchmark.png'))
    with open(osp.join(args.out, 'benchmark.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(args.out, 'benchmark.md'), 'w') as f:
        f.write(text)
    print('\n' + text)
    print(f'(ran {time.perf_counter() - start:.0f} s; written to '
          f'{args.out}/benchmark.md, .json, .png)')


if __name__ == '__main__':
    main()
