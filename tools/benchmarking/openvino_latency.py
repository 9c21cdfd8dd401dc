"""Batch-1 latency of a student on ONNX Runtime (fp32) against OpenVINO
FP32, BF16 and NNCF INT8 variants, in interleaved rounds in one process:
the probe behind the INT8 recipe (the INT8 IR's float ops in BF16, NNCF's
default scheme), calibrated on real crops, and behind compiling for a
static batch (each OpenVINO case compiled for batch 1, three also for the
IR's dynamic batch). The OpenVINO columns of record,
for every model at batch 1 and 32, are ``tools/benchmark.py``'s.

    python tools/benchmarking/openvino_latency.py \
        --calib-data data/synthcoco [--config CONFIG] [--threads 2] \
        [--rounds 5] [--reps 30] [--max-wait 20] [--cold] [--no-bf16]

The model has random weights (latency does not depend on them); the INT8
IRs are calibrated on person crops of ``--calib-data`` made by the model's
own pipeline, and every case runs on the same crop. Each round calls each
case ``--reps`` times in a row (rotating the order); the table gives the
best round median and the spread of the round medians. ``--max-wait``
seconds per case are spent waiting for other processes to leave the CPUs
idle (``benchmarking.timing.QuietTimer``; 0 times without waiting); one
untimed call follows that wait, except with ``--cold``, which times the
first call too and reports it apart from the others.

``--no-bf16`` leaves out the BF16 cases: with oneDNN capped below BF16
(``ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI``, which OpenVINO's CPU kernels
obey and ONNX Runtime's do not) the probe estimates OpenVINO on a CPU with
VNNI but no BF16, where BF16 would only be emulated.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from benchmarking.analysis import machine_name  # noqa: E402
from benchmarking.timing import QuietTimer, interleaved  # noqa: E402

from distilpose.deploy import (INPUT_NAME, calibration_for,  # noqa: E402
                               compile_ir, cpu_capabilities, create_session,
                               export_onnx, export_openvino, load_model,
                               quantize_openvino, read_ir, topdown_metadata)

S_CFG = ('configs/distilpose/coco/'
         'distilpose-s_stemnet_inference_coco-256x192.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=S_CFG)
    parser.add_argument('--calib-data', required=True,
                        help='COCO-format data root (train crops calibrate '
                        'the INT8 IRs)')
    parser.add_argument('--calib-crops', type=int, default=128)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--reps', type=int, default=30)
    parser.add_argument('--max-wait', type=float, default=20.)
    parser.add_argument('--cold', action='store_true',
                        help='no untimed call after the wait for idle CPUs; '
                        'report the first call of each round apart')
    parser.add_argument('--no-bf16', action='store_true',
                        help='leave out the BF16 cases (see above)')
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.reps < (2 if args.cold else 1):
        parser.error(f'--rounds {args.rounds} --reps {args.reps}: give at '
                     'least one round and one call a round (two with '
                     '--cold, which reports the first apart).')
    return args


def build_runners(args, tmp: str) -> dict:
    """Name -> one batch-1 call, for every case this CPU can run."""
    model = load_model(args.config)
    meta = topdown_metadata(model)
    crops = calibration_for(meta, args.calib_data, args.calib_crops)
    x = np.ascontiguousarray(crops[:1])
    onnx_path = export_onnx(model, osp.join(tmp, 'model.onnx'))
    fp32 = export_openvino(model, osp.join(tmp, 'model.xml'))
    int8 = quantize_openvino(fp32, osp.join(tmp, 'model.int8.xml'), crops)
    cnn = quantize_openvino(fp32, osp.join(tmp, 'model.cnn.xml'), crops,
                            model_type=None, float_ops=())
    session = create_session(onnx_path, args.threads)
    runners = {'ORT fp32': lambda: session.run(None, {INPUT_NAME: x})}
    # (name, IR, precision of the float ops, static batch)
    cases = [('OV FP32', fp32, 'f32', 1),
             ('OV FP32, dynamic batch', fp32, 'f32', None),
             ('OV BF16', fp32, 'bf16', 1),
             ('OV BF16, dynamic batch', fp32, 'bf16', None),
             ('OV INT8 (recipe)', int8, 'f32', 1),
             ('OV INT8 (recipe), dynamic batch', int8, 'f32', None),
             ('OV INT8 (recipe), float ops BF16', int8, 'bf16', 1),
             ('OV INT8 (NNCF default scheme, -0.04 AP)', cnn, 'f32', 1)]
    has_bf16 = 'BF16' in cpu_capabilities() and not args.no_bf16
    for name, path, precision, batch in cases:
        if precision == 'bf16' and not has_bf16:
            print(f'skipped {name}: no BF16 (this CPU, or --no-bf16)')
            continue
        request = compile_ir(read_ir(path)[0], precision, args.threads,
                             batch).create_infer_request()
        runners[name] = (lambda r=request: r.infer({0: x}))
    return runners


def tables(samples: dict, rounds: int, reps: int, cold: bool) -> str:
    """Markdown tables of ``interleaved``'s seconds (``reps`` calls in each
    of ``rounds`` rounds a case): best round median against ONNX Runtime
    fp32 and, with ``cold``, the first call of a round against the rest."""
    ms = {k: 1e3 * np.array(v).reshape(rounds, reps)
          for k, v in samples.items()}
    lines = []
    if cold:
        lines += ['| runtime | first call after the wait, median of rounds '
                  '(ms) | the other calls (ms) | ratio |', '|---|---|---|---|']
        for name, m in ms.items():
            first, rest = np.median(m[:, 0]), np.median(m[:, 1:])
            lines.append(f'| {name} | {first:.1f} | {rest:.1f} | '
                         f'{first / rest:.2f} |')
        lines.append('')
    medians = {k: np.median(m, axis=1) for k, m in ms.items()}
    ref = medians['ORT fp32'].min()
    lines += ['| runtime | best round median (ms) | round medians, min-max '
              '(ms) | vs ORT fp32 |', '|---|---|---|---|']
    for name, m in medians.items():
        lines.append(f'| {name} | {m.min():.1f} | {m.min():.1f}-'
                     f'{m.max():.1f} | {m.min() / ref:.2f}x |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        runners = build_runners(args, tmp)
        timer = QuietTimer(args.max_wait)
        samples = interleaved(runners, args.rounds, timer,
                              {k: args.reps for k in runners},
                              warm=not args.cold)
    load = os.getloadavg()
    print(f'\n{osp.basename(args.config)}, batch 1, {args.threads} threads; '
          f'{machine_name()}; load average {load[0]:.2f} / {load[1]:.2f}; '
          f'{timer.summary()}\n')
    print(tables(samples, args.rounds, args.reps, args.cold))
    return 0


if __name__ == '__main__':
    sys.exit(main())
