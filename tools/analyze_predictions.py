"""Where a top-down model loses AP: localisation or ranking. Reads the
predictions that ``mim test ... --dump FILE.pkl`` writes (ground-truth
boxes, one person a crop) and the COCO keypoint file they were made on:

    python tools/analyze_predictions.py ANN_FILE.json \\
        "teacher=work_dirs/teacher.pkl" "student=work_dirs/student.pkl"

For each model it prints two tables:

- **localisation**: on every labelled keypoint, its OKS similarity
  ``exp(-d^2 / (2 area (2 sigma)^2))`` (COCO's, with the dataset's
  sigmas): the share above 0.9 (precise), in (0.5, 0.9] and at most 0.5
  (misses), the mean, and the median distance over the square root of the
  person's area; then the mean similarity per keypoint;
- **ranking**: COCO keypoint AP with three instance scores: the model's
  own, as MMPose's ``CocoMetric`` forms it by default (the mean of the
  keypoint scores above 0.2), a constant (no ranking), and the instance's
  true OKS (a perfect ranking: the most AP these keypoints can reach).
"""
import argparse
import contextlib
import io
import os.path as osp
import pickle
import sys
import warnings
from typing import Dict, List

import numpy as np

#: MMPose's CocoMetric default: instance score = mean keypoint score of
#: the keypoints scored above this (score_mode 'bbox_keypoint', GT boxes)
KEYPOINT_SCORE_THR = 0.2


def coco_metainfo() -> dict:
    """Sigmas and keypoint names of MMPose's COCO dataset."""
    from mmpose.datasets import CocoDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    # MMPose warns that its relative metainfo path is read from the
    # installed package: that is the file meant here
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return parse_pose_metainfo(CocoDataset.METAINFO)


def read_dump(path: str) -> List[dict]:
    """Per person: ``ann`` (its raw annotation), ``keypoints`` [K, 2] and
    ``scores`` [K] as predicted, from a ``--dump`` file."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: no such file. Write one with mim test mmpose CONFIG '
            '--checkpoint WEIGHTS --dump FILE.pkl.')
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    people = []
    for s in samples:
        if 'raw_ann_info' not in s or 'pred_instances' not in s:
            raise ValueError(
                f'{path}: not a dump of top-down predictions (a sample '
                "lacks 'raw_ann_info' or 'pred_instances'); dump with "
                'mim test --dump on a top-down config.')
        pred = s['pred_instances']
        people.append(
            dict(ann=s['raw_ann_info'],
                 keypoints=np.asarray(pred['keypoints'])[0],
                 scores=np.asarray(pred['keypoint_scores'])[0]))
    return people


def keypoint_similarity(person: dict, sigmas: np.ndarray) -> tuple:
    """(similarity, normalised distance, labelled mask) per keypoint."""
    gt = np.asarray(person['ann']['keypoints'], dtype=float).reshape(-1, 3)
    area = float(person['ann']['area'])
    d2 = ((person['keypoints'] - gt[:, :2])**2).sum(1)
    similarity = np.exp(-d2 / (2 * area * (2 * sigmas)**2))
    return similarity, np.sqrt(d2 / area), gt[:, 2] > 0


def localisation(similarities: List[tuple]) -> dict:
    """Shares and means of ``keypoint_similarity``'s per-person results."""
    sims, dists, kinds = [], [], []
    for sim, dist, labelled in similarities:
        sims.append(sim[labelled])
        dists.append(dist[labelled])
        kinds.append(np.nonzero(labelled)[0])
    sim, dist, kind = map(np.concatenate, (sims, dists, kinds))
    return dict(
        precise=float(np.mean(sim > 0.9)),
        near=float(np.mean((sim > 0.5) & (sim <= 0.9))),
        miss=float(np.mean(sim <= 0.5)),
        mean=float(sim.mean()),
        median_distance=float(np.median(dist)),
        per_keypoint=[
            float(sim[kind == k].mean()) if (kind == k).any() else float('nan')
            for k in range(len(similarities[0][0]))
        ])


def instance_scores(people: List[dict],
                    similarities: List[tuple]) -> dict:
    """The three scores of each person (see the module docstring);
    ``similarities``: ``keypoint_similarity`` of each person."""
    own, oracle = [], []
    for person, (sim, _, labelled) in zip(people, similarities):
        s = person['scores']
        kept = s[s > KEYPOINT_SCORE_THR]
        own.append(float(kept.mean()) if kept.size else 0.)
        oracle.append(float(sim[labelled].mean()) if labelled.any() else 0.)
    return {'own scores': own, 'constant': [1.] * len(people),
            'true OKS': oracle}


def load_coco(ann_file: str):
    from pycocotools.coco import COCO
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines
        return COCO(ann_file)


def check_same_people(gt, people: List[dict], path: str) -> None:
    """Refuse a dump made on other images than the annotation file's."""
    foreign = [
        p for p in people if p['ann']['id'] not in gt.anns
        or gt.anns[p['ann']['id']]['keypoints'] != p['ann']['keypoints']
    ]
    if foreign:
        raise ValueError(
            f'{path}: {len(foreign)} of its {len(people)} people are not in '
            'the annotation file (by id and keypoints); give the file '
            'its predictions were made on (the test_evaluator ann_file of '
            'the mim test run).')


def coco_ap(gt, people: List[dict], scores: List[float]) -> float:
    from pycocotools.cocoeval import COCOeval
    results = [
        dict(image_id=p['ann']['image_id'], category_id=1, score=score,
             keypoints=np.concatenate(
                 [p['keypoints'], p['scores'][:, None]], 1).ravel().tolist())
        for p, score in zip(people, scores)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(results), 'keypoints')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def parse_models(items: List[str]) -> Dict[str, str]:
    models = {}
    for item in items:
        name, sep, path = item.partition('=')
        if not sep or not name or not path:
            raise ValueError(f'{item!r}: give each model as NAME=DUMP.pkl.')
        models[name] = path
    return models


def report(ann_file: str, models: Dict[str, str]) -> str:
    meta = coco_metainfo()
    sigmas = np.asarray(meta['sigmas'], dtype=float)
    names = [meta['keypoint_id2name'][k] for k in range(len(sigmas))]
    gt = load_coco(ann_file)
    loc, ranking = {}, {}
    for name, path in models.items():
        people = read_dump(path)
        check_same_people(gt, people, path)
        similarities = [keypoint_similarity(p, sigmas) for p in people]
        loc[name] = localisation(similarities)
        ranking[name] = {
            kind: coco_ap(gt, people, scores)
            for kind, scores in instance_scores(people, similarities).items()
        }
    lines = [
        '| model | similarity > 0.9 | 0.5-0.9 | <= 0.5 (misses) | mean '
        '| median distance / sqrt(area) |', '|---|---|---|---|---|---|'
    ]
    lines += [
        f'| {n} | {v["precise"]:.3f} | {v["near"]:.3f} | {v["miss"]:.3f} | '
        f'{v["mean"]:.3f} | {v["median_distance"]:.4f} |'
        for n, v in loc.items()
    ]
    lines += ['', '| keypoint | ' + ' | '.join(loc) + ' |',
              '|---|' + '---|' * len(loc)]
    lines += [
        f'| {kpt} | ' + ' | '.join(f'{v["per_keypoint"][k]:.3f}'
                                   for v in loc.values()) + ' |'
        for k, kpt in enumerate(names)
    ]
    kinds = list(next(iter(ranking.values())))
    lines += ['', '| model | AP, ' + ' | AP, '.join(kinds) + ' |',
              '|---|' + '---|' * len(kinds)]
    lines += [
        f'| {n} | ' + ' | '.join(f'{v[k]:.3f}' for k in kinds) + ' |'
        for n, v in ranking.items()
    ]
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='COCO keypoint file of the images '
                        'the predictions were made on')
    parser.add_argument('models', nargs='+', metavar='NAME=DUMP.pkl')
    args = parser.parse_args(argv)
    if not osp.isfile(args.ann_file):
        parser.error(f'{args.ann_file}: no such annotation file.')
    try:
        models = parse_models(args.models)
        print(report(args.ann_file, models))
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    return 0


if __name__ == '__main__':
    sys.exit(main())
