"""Export a top-down model (e.g. DistilPose-S) to ONNX and check it.

    python tools/export_onnx.py CONFIG OUT.onnx --checkpoint CKPT
    python tools/export_onnx.py CONFIG OUT.onnx --random-weights

The graph has a dynamic batch dimension and holds the test pipeline,
normalisation and codec as metadata (see ``tools/onnx_demo.py``). After
writing, the file is run with ONNX Runtime next to PyTorch on random inputs
and the largest difference is printed; the exit status is 1 if it exceeds
``--atol``.
"""
import argparse
import sys

import numpy as np
from mmengine.config import DictAction

from distilpose.checkpoint import CheckpointError
from distilpose.deploy import compare_with_pytorch, export_onnx, load_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='model config (e.g. the inference '
                        'config of DistilPose-S)')
    parser.add_argument('out', help='output .onnx path')
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument('--checkpoint', help='checkpoint to export')
    weights.add_argument(
        '--random-weights',
        action='store_true',
        help="export the model's random initialisation (for speed tests)")
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--flip-test',
        action='store_true',
        help='put the flip test in the graph (twice the compute)')
    parser.add_argument(
        '--verify-batch-sizes',
        type=int,
        nargs='+',
        default=[1, 3],
        help='batch sizes of the ONNX Runtime vs PyTorch check')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        model = load_model(args.config, args.checkpoint, args.cfg_options)
    except (FileNotFoundError, CheckpointError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    export_onnx(model, args.out, flip_test=args.flip_test, opset=args.opset)
    print(f'wrote {args.out} (opset {args.opset}, dynamic batch)')
    worst = 0.
    for n, (got, ref) in compare_with_pytorch(
            model, args.out, args.verify_batch_sizes).items():
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        print(f'batch {n}: max |ONNX Runtime - PyTorch| = {diff:.3g} '
              f'(output {tuple(got.shape)})')
    if worst > args.atol:
        print(f'FAILED: {worst:.3g} > atol {args.atol:g}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
