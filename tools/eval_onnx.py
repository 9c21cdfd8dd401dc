"""COCO keypoint AP of exported models: ONNX files (fp32 or INT8) on ONNX
Runtime, OpenVINO IRs (.xml: FP32, BF16, INT8) on OpenVINO.

    python tools/eval_onnx.py MODEL.onnx [MODEL.int8.onnx MODEL.xml ...] \
        --data data/synthcoco [--split val] [--threads 2] \
        [--precision f32 bf16]

Each model runs as :class:`distilpose.deploy.OnnxPoseEstimator` (``.onnx``)
or :class:`distilpose.deploy.OpenVinoPoseEstimator` (``.xml``, once per
``--precision``: OpenVINO's precision for float ops) runs it (its own
pipeline and codec) on the ground-truth boxes of the split, and
MMPose's ``CocoMetric`` scores the keypoints as ``mim test`` does
(keypoint-score rescoring, OKS NMS). Prints one table row per model.
"""
import argparse
import contextlib
import io
import os.path as osp
import sys

import numpy as np
from mmpose.datasets import CocoDataset
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.evaluation import CocoMetric

from distilpose.datasets import load_annotation_file, people_by_image
from distilpose.deploy import (PRECISIONS, OnnxPoseEstimator,
                               OpenVinoPoseEstimator, check_precision)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='+',
                        help='.onnx files and OpenVINO .xml files')
    parser.add_argument('--data', required=True,
                        help='COCO-format data root (annotations/, <split>/)')
    parser.add_argument('--split', default='val')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--precision', nargs='+', choices=PRECISIONS, default=['f32'],
        help='OpenVINO precision(s) of the float ops of .xml models (bf16 '
        'only on a CPU with AVX512-BF16 or AMX)')
    return parser.parse_args(argv)


def load_estimator(path: str, threads=None, precision: str = 'f32'):
    """The estimator of an exported model: OpenVINO for an .xml IR, ONNX
    Runtime otherwise."""
    if path.endswith('.xml'):
        return OpenVinoPoseEstimator(path, threads, precision)
    return OnnxPoseEstimator(path, threads)


def evaluate(path: str, data: str, split: str, threads=None,
             precision: str = 'f32') -> dict:
    estimator = load_estimator(path, threads, precision)
    ann_file = osp.join(data, 'annotations', f'person_keypoints_{split}.json')
    metric = CocoMetric(ann_file=ann_file)
    metric.dataset_meta = dict(
        num_keypoints=len(estimator.keypoint_names),
        sigmas=_coco_sigmas(len(estimator.keypoint_names)))
    # areas as mim test computes them: the padded box (GetBBoxCenterScale)
    padding = next((t.get('padding', 1.25) for t in estimator.meta['pipeline']
                    if t['type'] == 'GetBBoxCenterScale'), 1.25)
    for image, anns in people_by_image(load_annotation_file(ann_file)):
        img = estimator.load_image(osp.join(data, split, image['file_name']))
        for ann_id, box in anns:
            keypoints, scores = estimator(img, np.asarray([box], np.float32))
            wh = (np.asarray(box[2:]) - np.asarray(box[:2])) * padding
            metric.process([], [dict(
                id=ann_id, img_id=image['id'],
                pred_instances=dict(keypoints=keypoints,
                                    keypoint_scores=scores),
                gt_instances=dict(bbox_scores=np.ones(1),
                                  bbox_scales=wh[None]))])
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval's printout
        return metric.compute_metrics(metric.results)


def _coco_sigmas(num_keypoints: int) -> np.ndarray:
    """COCO's OKS sigmas, from MMPose's COCO metainfo."""
    if num_keypoints != 17:
        raise ValueError(f'{num_keypoints} keypoints: eval_onnx.py scores '
                         "COCO's 17 (with COCO's OKS sigmas).")
    return parse_pose_metainfo(CocoDataset.METAINFO)['sigmas']


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [(path, precision) for path in args.models
            for precision in (args.precision if path.endswith('.xml') else
                              [None])]
    try:  # before any model runs: BF16 on a CPU without it
        for precision in {p for _, p in runs if p}:
            check_precision(precision)
    except (ImportError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print('| model | AP | AP50 | AR |\n|---|---|---|---|')
    for path, precision in runs:
        result = evaluate(path, args.data, args.split, args.threads,
                          precision or 'f32')
        name = osp.basename(path) + (f' ({precision})' if precision else '')
        print(f'| {name} | {result["AP"]:.3f} | '
              f'{result["AP .5"]:.3f} | {result["AR"]:.3f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
