"""Speed of DistilPose against its teacher and MMPose peers, on this CPU
or a GPU.

    python tools/benchmark.py [--out results/benchmark] [--rounds 5]
                              [--models NAME_OR_CONFIG ...]
                              [--paths PATH ...] [--batches N ...]
                              [--threads 2] [--reference NAME] [--quick]
                              [--no-train] [--no-memory] [--no-compile]
                              [--max-wait 30]
    python tools/benchmark.py --device cuda [--batch 256] [--warmup 5]
                              [--reps 20] [--precisions fp32 bf16 fp16]
                              [--models ...] [--out ...]

Models (default: the catalogue of ``benchmarking/models.py``: DistilPose-S
and -L, the TokenPose HRNet-W48 teacher, and RTMPose-s, HRNet-W32 and
RLE-R50 from MMPose's own configs; or any top-down config), all with
random weights (speed does not depend on the values). For each:
parameters; GFLOPs as MMEngine counts them (a multiply-add is one FLOP;
fused attention is invisible to it) and true GMACs (attention matmuls
included); latency at batch 1 and 32 (``--batches``) on every CPU path
(``--paths``): PyTorch eager fp32, ``torch.compile`` and BF16 autocast (as
``model.test_cfg`` switches them), ONNX Runtime fp32 and INT8 (as
``tools/export_onnx.py --int8`` writes it), OpenVINO FP32, BF16 (its
``bf16`` precision hint, where the CPU has AVX512-BF16 or AMX; elsewhere
the column says why it is absent) and NNCF INT8 (as
``tools/export_openvino.py --int8`` writes it). All cases of all models
run in interleaved rounds with contention checks
(``benchmarking/timing.py``): medians, and the spread of the round
medians. Each path is given against ONNX Runtime fp32 and eager fp32 of
the same model, against the FLOP bound of its precision (true MACs at the
GEMM peak of that precision, measured here), and as a speed-up over the
reference model (the teacher). The INT8 files are calibrated on random
inputs: speed does not depend on the ranges (their accuracy is measured in
docs/deployment.md). The speed targets of docs/performance.md that the run
can decide are checked (``benchmarking/targets.py``: PASS / MISS with the
numbers). Peak memory in child processes. The training side times a
DistilPose-S distillation step against a student-alone step.

Writes ``benchmark.md`` (what is printed), ``benchmark.json`` (every
sample), ``benchmark.png`` and ``runtime_guide.md`` (each model's paths
on this CPU, fastest first: the rows of the guide in docs/deployment.md)
to ``--out``.

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
import shutil
import sys
import tempfile
import time
from importlib import metadata
from typing import Dict, List, Sequence, Tuple

import torch
from benchmarking import gpu
from benchmarking.analysis import (cpu_class, input_size_of, machine_name,
                                   model_complexity, read_cpuinfo)
from benchmarking.engines import ENGINE_NAMES, ENGINE_TITLES, ENGINES
from benchmarking.inference import (TORCH_ENGINES, gemm_peaks, ort_runner,
                                    torch_network, torch_runner)
from benchmarking.memory import measure_memory
from benchmarking.models import CATALOGUE, build, resolve
from benchmarking.openvino_paths import (OPENVINO_ENGINES, openvino_absent,
                                         openvino_networks, openvino_note,
                                         openvino_runner)
from benchmarking.report import report, runtime_guide
from benchmarking.timing import QuietTimer, interleaved
from benchmarking.training import training_runners

from distilpose.deploy import (MIN_CALIB_CROPS, create_session, export_onnx,
                               quantize_int8)

#: How each engine's timed call is made from its network, session or
#: compiled model.
RUNNERS = dict({e: torch_runner for e in TORCH_ENGINES},
               ort=ort_runner, ort_int8=ort_runner,
               **{e: openvino_runner for e in OPENVINO_ENGINES})


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
        help='batch-1 calls per case and round (CPU, default 30); timed '
        'batch-1 calls per case (GPU, default 20)')
    parser.add_argument('--batch', type=int, default=None,
                        help='the large inference batch (default: 32 on the '
                        'CPU, 256 on the GPU); on the CPU the same as '
                        '--batches 1 BATCH')
    parser.add_argument(
        '--batches',
        type=int,
        nargs='+',
        metavar='N',
        help='the CPU batch sizes timed (default: 1 32; --quick: 1 4)')
    parser.add_argument(
        '--paths',
        '--backends',
        nargs='+',
        choices=ENGINES,
        default=list(ENGINES),
        metavar='PATH',
        help='the CPU paths timed (default: all): ' + ', '.join(
            f'{e} ({ENGINE_NAMES[e]})' for e in ENGINES))
    parser.add_argument('--threads', type=int, default=2,
                        help='threads of every CPU path')
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
                        help='smoke run: 2 rounds, 2 reps, batches 1 and 4')
    parser.add_argument('--no-train', action='store_true')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument(
        '--no-compile',
        action='store_true',
        help='leave out torch.compile (its first call compiles, 30 s or '
        'more per model and batch size); the same as leaving compiled out '
        'of --paths')
    args = parser.parse_args(argv)
    refusal = gpu.cuda_refusal(args.device)
    if refusal:
        parser.error(refusal)
    cuda = args.device == 'cuda'
    if args.reps is None:
        args.reps = 20 if cuda else 30
    if args.quick:
        args.rounds = args.reps = args.train_rounds = 2
        args.train_batch = 4
        args.batch = args.batch or 4
        args.warmup = 1
    refusal = check_sizes(args)
    if refusal:
        parser.error(refusal)
    if args.batch is None:
        args.batch = 256 if cuda else 32
    if args.batches is None:
        args.batches = [1, args.batch]
    args.batches = sorted(set(args.batches))
    args.paths = [e for e in ENGINES if e in args.paths
                  and not (args.no_compile and e == 'compiled')]
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


def check_sizes(args) -> str:
    """Why the counts and sizes asked for cannot be run ('' if they can)."""
    if args.batches is not None and args.device == 'cuda':
        return ('--batches is for the CPU; on the GPU give the large batch '
                'with --batch (batch 1 is always timed).')
    if args.batches is not None and args.batch is not None:
        return (f'give --batches or --batch, not both (--batch '
                f'{args.batch} means --batches 1 {args.batch}).')
    sizes = [('--rounds', args.rounds), ('--reps', args.reps),
             ('--threads', args.threads)]
    sizes += [('--batch', args.batch)] if args.batch is not None else []
    sizes += [('--batches', n) for n in args.batches or ()]
    bad = [f'{option} {value}' for option, value in sizes if value < 1]
    return f'{", ".join(bad)}: give a positive number.' if bad else ''


def versions() -> str:
    """The libraries whose kernels are timed."""
    found = [f'torch {torch.__version__}']
    for package in ('onnxruntime', 'openvino', 'nncf'):
        try:
            found.append(f'{package} {metadata.version(package)}')
        except metadata.PackageNotFoundError:
            pass
    return ', '.join(found)


def input_shape_of(model: torch.nn.Module) -> Tuple[int, int, int]:
    """(C, H, W) of one image, from the config's test pipeline."""
    w, h = input_size_of(model.cfg)
    return 3, h, w


def networks_of(model: torch.nn.Module, name: str, engines: Sequence[str],
                folder: str, threads: int) -> Tuple[Dict[str, object], str]:
    """Engine -> network or session of ``model`` (one for every batch
    size; OpenVINO's: a function compiling it for a batch size), and its
    fp32 ONNX file (the memory probe's)."""
    shape = input_shape_of(model)
    onnx_path = export_onnx(model, osp.join(folder, f'{name}.onnx'))
    nets = {e: torch_network(model, e) for e in engines
            if e in TORCH_ENGINES}
    if 'ort' in engines:
        nets['ort'] = create_session(onnx_path, threads)
    if 'ort_int8' in engines:
        # As tools/export_onnx.py --int8 makes it: fused attention,
        # calibrated on random crops (speed does not depend on the ranges).
        int8 = quantize_int8(
            export_onnx(model, osp.join(folder, f'{name}.fused.onnx'),
                        fused_attention=True),
            osp.join(folder, f'{name}.int8.onnx'),
            torch.randn(MIN_CALIB_CROPS, *shape).numpy())
        nets['ort_int8'] = create_session(int8, threads)
    nets.update(openvino_networks(model, folder, name, engines, shape,
                                  threads))
    return nets, onnx_path


def notes(engines: Sequence[str], threads: int) -> List[str]:
    """What the report's reader needs to know about how the timed paths
    were made."""
    found = ['FLOP bound: true MACs at the GEMM peak of the path\'s '
             'precision measured here (fp32, bf16: torch matmul; int8: ONNX '
             'Runtime\'s MatMulInteger, for both INT8 paths).']
    int8 = [ENGINE_TITLES[e] for e in engines if e.endswith('int8')]
    if int8:
        found.append(
            f'{" and ".join(int8)}: calibrated on {MIN_CALIB_CROPS} random '
            'inputs; speed does not depend on the calibration values, and '
            'accuracy is measured separately (docs/deployment.md).')
    if any(e in OPENVINO_ENGINES for e in engines):
        found.append(openvino_note(threads))
    return found


def select_engines(paths: Sequence[str]
                   ) -> Tuple[List[str], Dict[str, str]]:
    """The ``paths`` this machine can run, and why it cannot run the
    others (OpenVINO BF16 without AVX512-BF16 or AMX, OpenVINO missing).

    Raises:
        ValueError: it can run none of them.
    """
    absent = {e: why for e, why in openvino_absent().items() if e in paths}
    engines = [e for e in paths if e not in absent]
    if not engines:
        raise ValueError(
            'none of the paths asked for can run here: ' + '; '.join(
                f'{ENGINE_TITLES[e]}: {why}' for e, why in absent.items())
            + '. Choose others with --paths.')
    return engines, absent


def run(args, engines: Sequence[str], absent: Dict[str, str]) -> dict:
    """Every measurement of ``engines`` (``select_engines``), as
    JSON-ready samples."""
    torch.set_num_threads(args.threads)
    res = dict(
        load_start=os.getloadavg(),
        machine=machine_name(),
        cpu_class=cpu_class(read_cpuinfo()[1]),
        threads=args.threads,
        versions=versions(),
        batches=args.batches,
        rounds=args.rounds,
        reps=args.reps,
        # QuietTimer makes one untimed call after each wait for idle CPUs
        warm=args.max_wait > 0,
        train_batch=args.train_batch,
        engines=list(engines),
        absent=absent,
        notes=notes(engines, args.threads),
        complexity={},
        inputs={})
    tmp = tempfile.mkdtemp(prefix='benchmark-')
    try:
        _measure(args, res, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res['load_end'] = os.getloadavg()
    return res


def _measure(args, res: dict, tmp: str) -> None:
    """Fill ``res``: latency, GEMM peaks, training steps, memory."""
    timer = QuietTimer(args.max_wait)
    runners, reps, onnx_paths = {}, {}, {}
    for name, config in args.configs.items():
        print(f'building {name}', flush=True)
        model = build(config)
        res['inputs'][name] = input_shape_of(model)
        res['complexity'][name] = model_complexity(model,
                                                   res['inputs'][name])
        nets, onnx_paths[name] = networks_of(model, name, res['engines'],
                                             tmp, args.threads)
        for n in args.batches:
            x = torch.randn(n, *res['inputs'][name])
            for engine in res['engines']:
                key = f'{name}|{engine}|{n}'
                runners[key] = RUNNERS[engine](nets[engine], x)
                reps[key] = args.reps if n == 1 else 1
    peaks = gemm_peaks(timer, args.threads)
    print(f'timing {len(runners)} cases x {args.rounds} rounds (the '
          'warm-up compiles the compiled ones)', flush=True)
    res['latency'] = interleaved(runners, args.rounds, timer, reps)
    res['gemm_peaks'] = {k: max(v, peaks[k])
                         for k, v in gemm_peaks(timer, args.threads).items()}
    del runners
    if not args.no_train:
        print('timing training steps', flush=True)
        res['training'] = interleaved(
            training_runners(args.train_batch, tmp), args.train_rounds, timer,
            warm=False)
    if not args.no_memory:
        print('measuring peak memory (one process per model and engine)',
              flush=True)
        res['memory'] = measure_memory(args.configs, onnx_paths,
                                       args.batches, args.threads,
                                       res['inputs'])
    res['contention'] = timer.summary()


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


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.device == 'cuda':
        os.makedirs(args.out, exist_ok=True)
        print('\n' + run_gpu(args))
        print(f'(ran {time.perf_counter() - start:.0f} s; written to '
              f'{args.out}/benchmark_cuda.md, .json)')
        return 0
    try:
        engines, absent = select_engines(args.paths)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    res = run(args, engines, absent)
    text = report(res, args.reference, osp.join(args.out, 'benchmark.png'))
    with open(osp.join(args.out, 'benchmark.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(args.out, 'benchmark.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.out, 'runtime_guide.md'), 'w') as f:
        f.write(runtime_guide(res))
    print('\n' + text)
    print(f'(ran {time.perf_counter() - start:.0f} s; written to '
          f'{args.out}/benchmark.md, .json, .png and runtime_guide.md)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
