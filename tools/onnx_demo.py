"""Keypoints of people in an image with an exported ONNX model.

    python tools/onnx_demo.py MODEL.onnx IMAGE [--bbox X1 Y1 X2 Y2 ...]
        [--draw OUT.png]

Without ``--bbox`` the whole image is one person box. Pre- and
post-processing are MMPose's (``inference_topdown``), read from the file's
metadata; the network runs on ONNX Runtime.
"""
import argparse

import cv2
import numpy as np

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


def draw(img, keypoints, scores, links, thr):
    """Skeleton links and keypoints with score >= thr, on a copy."""
    out = img.copy()
    for kpts, kpt_scores in zip(keypoints, scores):
        pts = [tuple(int(round(v)) for v in p) for p in kpts]
        for a, b in links:
            if min(kpt_scores[a], kpt_scores[b]) >= thr:
                cv2.line(out, pts[a], pts[b], (0, 200, 255), 2, cv2.LINE_AA)
        for p, s in zip(pts, kpt_scores):
            if s >= thr:
                cv2.circle(out, p, 3, (0, 255, 0), -1, cv2.LINE_AA)
    return out


def main(argv=None):
    args = parse_args(argv)
    estimator = OnnxPoseEstimator(args.model, args.threads)
    img = estimator.load_image(args.image)
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
        cv2.imwrite(
            args.draw,
            draw(img, keypoints, scores, estimator.skeleton_links,
                 args.score_thr))
        print(f'drawing saved to {args.draw}')


if __name__ == '__main__':
    main()
