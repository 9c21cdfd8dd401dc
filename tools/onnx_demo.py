"""Keypoints of people in an image with an exported ONNX model.

    python tools/onnx_demo.py MODEL.onnx IMAGE [--bbox X1 Y1 X2 Y2 ...]
        [--draw OUT.png]

Without ``--bbox`` the whole image is one person box. Pre- and
post-processing are MMPose's (``inference_topdown``), read from the file's
metadata; the network runs on ONNX Runtime.
"""
import argparse
import sys

import numpy as np
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from distilpose.apis import check_output_file, save_image
from distilpose.deploy import OnnxPoseEstimator


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', help='.onnx file from tools/export_onnx.py')
    parser.add_argument('image')
    parser.add_argument(
        '--bbox',
        type=float,
        nargs=4,
        action='append',
        metavar=('X1', 'Y1', 'X2', 'Y2'),
        help='a person box (repeat for several people)')
    parser.add_argument('--draw', metavar='PNG', help='save a drawing here')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='keypoints scored below are not drawn')
    parser.add_argument('--threads', type=int, help='ONNX Runtime threads')
    return parser.parse_args(argv)


def draw(img, keypoints, scores, links, thr, out_file):
    """Skeleton links and keypoints with score >= thr, drawn by MMPose's
    visualizer onto a copy of the BGR image and saved to ``out_file``."""
    visualizer = PoseLocalVisualizer(line_width=2)
    # One colour for all keypoints and one for all links: the file stores
    # the skeleton, not the dataset's palette.
    visualizer.set_dataset_meta(
        dict(
            skeleton_links=links,
            keypoint_colors=[(0, 255, 0)] * keypoints.shape[1],
            skeleton_link_colors=[(51, 153, 255)] * len(links)))
    sample = PoseDataSample(
        pred_instances=InstanceData(
            keypoints=keypoints, keypoint_scores=scores))
    drawn = visualizer.add_datasample(
        'pose',
        np.ascontiguousarray(img[..., ::-1]),  # the visualizer takes RGB
        sample,
        draw_gt=False,
        kpt_thr=thr)
    save_image(drawn, out_file)  # atomic: no partial file


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.draw:
            check_output_file(args.draw, 'the drawing')
        estimator = OnnxPoseEstimator(args.model, args.threads)
        img = estimator.load_image(args.image)
    except (OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    bboxes = np.array(args.bbox, np.float32) if args.bbox else None
    keypoints, scores = estimator(img, bboxes)
    names = estimator.keypoint_names or [
        str(i) for i in range(keypoints.shape[1])
    ]
    for i, (kpts, kpt_scores) in enumerate(zip(keypoints, scores)):
        print(f'person {i}:')
        for name, (x, y), s in zip(names, kpts, kpt_scores):
            print(f'  {name:>16s}  x={x:8.2f}  y={y:8.2f}  score={s:.3f}')
    if args.draw:
        draw(img, keypoints, scores, estimator.skeleton_links,
             args.score_thr, args.draw)
        print(f'drawing saved to {args.draw}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
