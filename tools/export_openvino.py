"""Export a top-down student (e.g. DistilPose-S) to an OpenVINO IR.

    python tools/export_openvino.py CONFIG OUT.xml --checkpoint CKPT
    python tools/export_openvino.py CONFIG OUT.xml --random-weights
    python tools/export_openvino.py CONFIG OUT.xml --checkpoint CKPT \
        --int8 --calib-data data/synthcoco

Writes OUT.xml and OUT.bin: the student alone (a distillation config is
refused: export its inference config), FP32 weights, dynamic batch, with
the test pipeline, normalisation, codec and keypoint names in the IR's
rt_info, so ``distilpose.deploy.OpenVinoPoseEstimator`` runs it without
the config. The IR is then run on OpenVINO (FP32) next to PyTorch on
random inputs and the largest difference is printed; the exit status is 1
if it exceeds ``--atol``.

``--int8`` also writes ``OUT.int8.xml`` (and .bin): NNCF's post-training
quantization (transformer scheme; LayerNorm and the additions kept
float), calibrated on ``--calib-crops`` person crops of the COCO-format
data root ``--calib-data`` (its train annotations) made by the model's
own pipeline, as ``tools/export_onnx.py --int8`` does; its agreement with
the FP32 IR on those crops is printed. Bad calibration data, a
distillation config or an output that cannot be written are refused
(exit status 2) before anything is written.
"""
import argparse
import os.path as osp
import sys

import numpy as np
from export_onnx import add_export_arguments

from distilpose.checkpoint import CheckpointError
from distilpose.deploy import (calibration_for, check_output_path,
                               check_student_config, compare_ir_with_pytorch,
                               compile_ir, export_openvino, load_model,
                               quantize_openvino, read_ir, report_agreement,
                               topdown_metadata)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_export_arguments(
        parser, 'output .xml path (its .bin is written beside it)',
        'OpenVINO')
    parser.add_argument('--int8', action='store_true',
                        help='also write the NNCF INT8 IR, OUT.int8.xml')
    return parser.parse_args(argv)


def int8_path(out: str) -> str:
    return f'{osp.splitext(out)[0]}.int8.xml'


def check_inputs(args) -> None:
    """Everything that can be checked before the model is built."""
    if args.int8 and not args.calib_data:
        raise ValueError('--int8 needs --calib-data: a COCO-format data root '
                         '(e.g. data/synthcoco) whose crops calibrate the '
                         'INT8 ranges.')
    if args.int8 and not osp.exists(args.calib_data):
        raise FileNotFoundError(
            f'Calibration data not found: {args.calib_data}. Give a '
            'COCO-format data root (e.g. data/synthcoco) or a .npy of '
            'network inputs.')
    check_output_path(args.out)
    if args.int8:
        check_output_path(int8_path(args.out))
    check_student_config(args.config)


def write_int8(fp32_path: str, crops: np.ndarray, args) -> None:
    """Quantize the FP32 IR on ``crops`` and print its agreement with it
    on the first 64 of them (keypoints in input widths/heights)."""
    path = quantize_openvino(fp32_path, int8_path(args.out), crops)
    int8, meta = read_ir(path)
    feed = crops[:64]
    ref, got = (compile_ir(ir)(feed)[0]
                for ir in (read_ir(fp32_path)[0], int8))
    diff = np.abs(got[..., :2] - ref[..., :2])
    print(f'wrote {path} (NNCF INT8, {meta["int8"]["model_type"]} scheme, '
          f'float: {", ".join(meta["int8"]["float_ops"])}; '
          f'{meta["calib_crops"]} calibration crops); on {len(feed)} crops '
          f'|INT8 - FP32| of the keypoints, in input widths/heights: mean '
          f'{diff.mean():.4f}, max {diff.max():.4f}')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_inputs(args)
        model = load_model(args.config, args.checkpoint, args.cfg_options)
        crops = None
        if args.int8:  # checked before anything is written
            crops = calibration_for(
                topdown_metadata(model, args.flip_test), args.calib_data,
                args.calib_crops)
        export_openvino(model, args.out, args.flip_test, args.opset)
    except (OSError, ValueError, CheckpointError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'wrote {args.out} and {osp.splitext(args.out)[0]}.bin (FP32, '
          'dynamic batch)')
    worst = report_agreement(
        compare_ir_with_pytorch(
            model, args.out, args.verify_batch_sizes), 'OpenVINO FP32')
    if worst > args.atol:
        print(f'FAILED: {worst:.3g} > atol {args.atol:g}')
        return 1
    if args.int8:
        try:
            write_int8(args.out, crops, args)
        except (OSError, ValueError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
