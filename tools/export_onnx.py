"""Export a top-down model (e.g. DistilPose-S) to ONNX and check it.

    python tools/export_onnx.py CONFIG OUT.onnx --checkpoint CKPT
    python tools/export_onnx.py CONFIG OUT.onnx --random-weights
    python tools/export_onnx.py CONFIG OUT.onnx --checkpoint CKPT \
        --int8 --calib-data data/synthcoco

The graph has a dynamic batch dimension and holds the test pipeline,
normalisation and codec as metadata (see ``tools/onnx_demo.py``). After
writing, the file is run with ONNX Runtime next to PyTorch on random inputs
and the largest difference is printed; the exit status is 1 if it exceeds
``--atol``.

``--int8`` also writes ``OUT`` with ``.int8.onnx`` for ``.onnx``, for ONNX
Runtime: the model exported again with the attention blocks as ONNX
Runtime's fused op, its convolutions statically quantized, calibrated on
``--calib-crops`` person crops of the COCO-format data root
``--calib-data`` (its train annotations) made by the model's own
pipeline, and its linear layers dynamically quantized
(``distilpose.deploy.quantize``); its agreement with the float file on
those crops is printed (keypoints, or for a heatmap model its heatmaps
over their peaks). ``--fused-attention`` writes ``OUT`` itself with
the fused op (a little faster on ONNX Runtime, for no other runtime).

A distillation (training) config is refused (exit status 2) before the
model is built, naming the inference config to export instead, as
``tools/export_openvino.py`` refuses it; nothing is written.
"""
import argparse
import os.path as osp
import sys
import tempfile

import numpy as np
from mmengine.config import DictAction

from distilpose.checkpoint import CheckpointError
from distilpose.deploy import (INPUT_NAME, check_student_config,
                               compare_with_pytorch, create_session,
                               export_onnx, load_calibration, load_model,
                               quantize_int8, read_metadata, report_agreement)


def add_export_arguments(parser: argparse.ArgumentParser, out_help: str,
                         runtime: str) -> None:
    """The arguments this tool shares with ``tools/export_openvino.py``
    (``runtime``: the one the exported file is checked on)."""
    parser.add_argument('config', help='model config (the inference config '
                        'of the student, e.g. DistilPose-S)')
    parser.add_argument('out', help=out_help)
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument('--checkpoint', help='checkpoint to export')
    weights.add_argument(
        '--random-weights',
        action='store_true',
        help="export the model's random initialisation (for speed tests)")
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset of the export')
    parser.add_argument(
        '--flip-test',
        action='store_true',
        help='put the flip test in the graph (twice the compute)')
    parser.add_argument(
        '--verify-batch-sizes',
        type=int,
        nargs='+',
        default=[1, 3],
        help=f'batch sizes of the {runtime} vs PyTorch check')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--calib-data',
                        help='COCO-format data root whose train crops '
                        'calibrate --int8 (or a .npy of network inputs)')
    parser.add_argument('--calib-crops', type=int, default=256)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_export_arguments(parser, 'output .onnx path', 'ONNX Runtime')
    parser.add_argument(
        '--fused-attention',
        action='store_true',
        help="write attention as ONNX Runtime's fused op (ORT only)")
    parser.add_argument('--int8', action='store_true',
                        help='also write the INT8 model (ONNX Runtime)')
    return parser.parse_args(argv)


def int8_path(out: str) -> str:
    stem, ext = osp.splitext(out)
    return f'{stem}.int8{ext or ".onnx"}'


def write_int8(model, args) -> None:
    """Quantize the model (exported with fused attention) and print its
    agreement with the file just written on the calibration crops
    (keypoints in normalised input coordinates; heatmaps over their
    peaks)."""
    # The crops are made once: calibration, then the agreement check on
    # the first 64 of them.
    crops = load_calibration(args.out, args.calib_data, args.calib_crops)
    with tempfile.TemporaryDirectory() as tmp:
        fused = export_onnx(
            model,
            osp.join(tmp, 'fused.onnx'),
            flip_test=args.flip_test,
            opset=args.opset,
            fused_attention=True)
        path = quantize_int8(fused, int8_path(args.out), crops)
    fp32, int8 = create_session(args.out), create_session(path)
    meta = read_metadata(int8)
    feed = {INPUT_NAME: crops[:64]}
    ref, got = (s.run(None, feed)[0] for s in (fp32, int8))
    if meta['outputs'] is None:  # heatmaps: relative to their peaks
        peaks = np.abs(ref).max(axis=(-2, -1), keepdims=True)
        diff = np.abs(got - ref) / np.maximum(peaks, 1e-6)
        what = 'the heatmaps, over each heatmap\'s fp32 peak'
    else:
        diff = np.abs(got[..., :2] - ref[..., :2])
        what = 'the keypoints, in input widths/heights'
    ops = '; '.join(f'{kind} {", ".join(types)}'
                    for kind, types in meta['int8_ops'].items())
    print(f'wrote {path} (INT8: {ops}); on {len(feed[INPUT_NAME])} crops '
          f'|INT8 - fp32| of {what}: mean {diff.mean():.4f}, max '
          f'{diff.max():.4f}')


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.int8 and not args.calib_data:
        print('error: --int8 needs --calib-data: a COCO-format data root '
              '(e.g. data/synthcoco) whose crops calibrate the INT8 '
              'ranges.', file=sys.stderr)
        return 2
    if args.int8 and not osp.exists(args.calib_data):
        print(f'error: calibration data not found: {args.calib_data}; '
              'nothing was written.', file=sys.stderr)
        return 2
    try:
        check_student_config(args.config)
        model = load_model(args.config, args.checkpoint, args.cfg_options)
    except (FileNotFoundError, ValueError, CheckpointError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    export_onnx(
        model,
        args.out,
        flip_test=args.flip_test,
        opset=args.opset,
        fused_attention=args.fused_attention)
    print(f'wrote {args.out} (opset {args.opset}, dynamic batch'
          f'{", fused attention" if args.fused_attention else ""})')
    worst = report_agreement(
        compare_with_pytorch(
            model, args.out, args.verify_batch_sizes), 'ONNX Runtime')
    if worst > args.atol:
        print(f'FAILED: {worst:.3g} > atol {args.atol:g}')
        return 1
    if args.int8:
        try:
            write_int8(model, args)
        except (OSError, ValueError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
