"""Building blocks of ``tools/demo.py``: data, shipped weights, profiling,
pictures.

The demo chains MMPose's own commands; this module holds what is not one of
them: the generated dataset (made once per set of arguments), the model-zoo
entries of the shipped weights, a model's size and speed, and the pictures
(the models side by side on the same generated crops, the student's
inferencer output). The results page and its curves: ``demo_report``.
"""
import glob
import json
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Optional

import numpy as np
import yaml
from publish_model import publish  # noqa: F401 (re-exported)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def zoo_entry(config: str, name: Optional[str] = None) -> dict:
    """The shipped weights of ``config``: file and sha256, as the
    ``metafile.yml`` beside the config names them. ``name`` picks one
    entry where several share the config (e.g. teachers continued with
    the same restart config); without it there must be exactly one."""
    metafile = osp.join(osp.dirname(config), 'metafile.yml')
    with open(metafile) as f:
        models = yaml.safe_load(f)['Models']
    rel = osp.relpath(config, ROOT)
    found = [m for m in models if m['Config'] == rel and
             (name is None or m['Name'] == name)]
    if len(found) != 1:
        names = [m['Name'] for m in found]
        raise KeyError(
            f'{metafile} has {len(found)} entries for {rel}'
            + (f' named {name}' if name else '') +
            (f' ({", ".join(names)}): name the one to use' if names else ''))
    return dict(file=osp.join(ROOT, found[0]['Weights']),
                sha256=found[0]['Metadata']['SHA256'])


def check_shipped(path: str) -> None:
    """Stop unless ``path`` is its model-zoo file unchanged: the checkpoint
    loader's own sha256 check, with the demo's way to re-create it."""
    from distilpose import model_index
    from distilpose.checkpoint import CheckpointError, check_zoo_hash

    recreate = ('re-create it with `python tools/demo.py --train-teacher` '
                '(written into the work dir)')
    if not osp.isfile(path):
        raise SystemExit(
            f'The shipped teacher {path} is missing. Restore it with '
            f'`git checkout -- {osp.relpath(path, ROOT)}` or {recreate}.')
    # The loader checks only what model-index.yml lists; the demo promises
    # the check, so an unlisted file is an error here, not a pass.
    if model_index.zoo_entry(path) is None:
        raise SystemExit(
            f'{path} is not listed in {model_index.MODEL_INDEX}, '
            'so its sha256 cannot be checked: add its metafile to the '
            "index's Import list.")
    try:
        check_zoo_hash(path)
    except CheckpointError as err:
        raise SystemExit(f'{err} For the demo teacher you can also '
                         f'{recreate}.') from err


def checkpoint_iterations(path: str) -> Optional[int]:
    """The training iterations an MMEngine checkpoint was saved after."""
    from distilpose.checkpoint import safe_torch_load
    meta = safe_torch_load(path, 'demo report').get('meta') or {}
    return meta.get('iter')


def ensure_dataset(root: str, train_images: int, val_images: int,
                   seed: int) -> None:
    """Generate the synthetic COCO-format dataset unless ``root`` already
    holds one made with the same arguments."""
    import hashlib

    import synthetic_coco

    # Keyed by the generator's source: a changed generator regenerates.
    digest = hashlib.sha1()
    package = osp.dirname(synthetic_coco.__file__)
    for path in sorted(glob.glob(osp.join(package, '*.py'))):
        digest.update(osp.basename(path).encode())
        with open(path, 'rb') as f:
            digest.update(f.read())
    generator = digest.hexdigest()[:12]
    params = dict(train_images=train_images, val_images=val_images,
                  seed=seed, generator=generator)
    stamp = osp.join(root, 'params.json')
    if osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == params:
                print(f'[demo] dataset {root} exists')
                return
    summary = synthetic_coco.generate_dataset(
        root, num_train_images=train_images, num_val_images=val_images,
        seed=seed)
    print(f'[demo] generated {summary}')
    with open(stamp, 'w') as f:
        json.dump(params, f)


def check_dataset(root: str) -> None:
    """The full check of ``tools/check_dataset.py`` on both splits (every
    image decoded): stop with its report rather than train on bad data."""
    from distilpose.datasets import check_coco_dataset, format_report
    for split in ('train', 'val'):
        ann = osp.join(root, 'annotations', f'person_keypoints_{split}.json')
        problems = check_coco_dataset(ann, osp.join(root, split),
                                      decode=True,
                                      workers=os.cpu_count() or 1)
        if problems:
            raise SystemExit(format_report(problems, ann))
        print(f'[demo] {ann}: every image decodes, no problems found')


def model_profiles(configs: List[str],
                   rounds: int = 20) -> List[Dict[str, float]]:
    """Per config: parameters, GFLOPs (MMEngine counting, and with the
    attention matmuls) and median batch-1 CPU latency with 2 threads, random
    weights. Latencies are taken in interleaved rounds, so that load drift
    on a shared machine hits every model alike."""
    import torch
    from benchmarking.analysis import input_size_of, model_complexity
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope('mmpose')
    models, inputs, stats = [], [], []
    for config in configs:
        cfg = Config.fromfile(config)
        w, h = input_size_of(cfg)
        model = MODELS.build(cfg.model).eval()
        info = model_complexity(model, (3, h, w))
        models.append(model)
        inputs.append(torch.randn(1, 3, h, w))
        stats.append(dict(
            params_m=info['params_m'], gflops=info['gflops_mmengine'],
            gmacs_attn=info['gmacs_true']))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    times = [[] for _ in models]
    with torch.no_grad():
        for round_ in range(rounds + 2):  # 2 warm-up rounds
            for model, x, t in zip(models, inputs, times):
                start = time.perf_counter()
                model._forward(x)  # tensors in, tensors out
                if round_ >= 2:
                    t.append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    for stat, t in zip(stats, times):
        stat['latency_ms'] = statistics.median(t) * 1e3
    return stats


def draw_inference(config: str, checkpoint: str, data_root: str,
                   out_dir: str, num_images: int = 4) -> List[str]:
    """Run ``MMPoseInferencer`` (no detector) with the student on generated
    validation images, given their person boxes; save the drawn poses as
    PNG. Returns the PNG paths.

    Only generated images: models trained on generated people do not
    transfer to photographs (for real images, convert the official COCO
    weights with ``tools/convert_official.py``)."""
    from mmpose.apis import MMPoseInferencer

    from distilpose.apis import inference_images

    with open(osp.join(data_root, 'annotations',
                       'person_keypoints_val.json')) as f:
        coco = json.load(f)
    boxes = {}
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        boxes.setdefault(ann['image_id'], []).append([x, y, x + w, y + h])
    chosen = [im for im in coco['images'] if im['id'] in boxes][:num_images]
    images = [osp.join(data_root, 'val', im['file_name']) for im in chosen]
    bboxes = [np.array(boxes[im['id']]) for im in chosen]
    inferencer = MMPoseInferencer(
        pose2d=config, pose2d_weights=checkpoint, det_model='whole_image',
        device='cpu')
    vis_dir = osp.join(out_dir, 'inference')
    inference_images(inferencer, images, bboxes, out_dir=vis_dir,
                     kpt_thr=0.0)
    return sorted(glob.glob(osp.join(vis_dir, '*.png')))


#: The comparison figure: panel size (the models' 3:4 input, upscaled so a
#: joint shows), line width and joint radius in pixels, BGR colours of the
#: person's left side, right side and the links between them.
PANEL_W, PANEL_H = 240, 320
LINE_PX, JOINT_PX = 3, 6
LEFT_COLOUR = (0, 140, 255)
RIGHT_COLOUR = (230, 120, 0)
CENTRE_COLOUR = (60, 190, 60)
_GAP, _HEADER, _FOOTER = 8, 56, 40


def comparison_crops(data_root: str, num_crops: int = 4) -> List[dict]:
    """Well-visible people of the generated val set, one per image in image
    order: ``image`` (path), ``bbox`` (ground truth, xyxy: the box the
    models are given, as in their evaluation), ``crop`` (the region a model
    sees, the box enlarged 1.25x to 3:4, upscaled to the panel size) and
    ``matrix`` (2x3, image to crop coordinates)."""
    import cv2

    with open(osp.join(data_root, 'annotations',
                       'person_keypoints_val.json')) as f:
        coco = json.load(f)
    best = {}
    for ann in coco['annotations']:
        key = (ann['num_keypoints'], ann['bbox'][3])
        if key > best.get(ann['image_id'], ((-1, -1), None))[0]:
            best[ann['image_id']] = (key, ann)
    files = {im['id']: im['file_name'] for im in coco['images']}
    people = [best[i][1] for i in sorted(best)]
    # Most of the body labelled and not tiny first; others only to fill up.
    good = [a for a in people if a['num_keypoints'] >= 12
            and a['bbox'][3] >= 64]
    rest = sorted((a for a in people if a not in good),
                  key=lambda a: -a['num_keypoints'])
    crops = []
    for ann in (good + rest)[:num_crops]:
        x, y, w, h = ann['bbox']
        scale = PANEL_H / (1.25 * max(h, w * PANEL_H / PANEL_W))
        matrix = np.array([[scale, 0., PANEL_W / 2 - scale * (x + w / 2)],
                           [0., scale, PANEL_H / 2 - scale * (y + h / 2)]])
        path = osp.join(data_root, 'val', files[ann['image_id']])
        crop = cv2.warpAffine(cv2.imread(path), matrix, (PANEL_W, PANEL_H),
                              flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_CONSTANT,
                              borderValue=(128, 128, 128))
        crops.append(dict(image=path, bbox=[x, y, x + w, y + h], crop=crop,
                          matrix=matrix))
    return crops


def predict_crops(config: str, checkpoint: str,
                  crops: List[dict]) -> List[np.ndarray]:
    """A model's keypoints (K, 2) on each crop, in crop coordinates: MMPose
    top-down inference on the whole image, given the person's box."""
    from mmpose.apis import inference_topdown, init_model

    model = init_model(config, checkpoint, device='cpu')
    points = []
    for crop in crops:
        result = inference_topdown(model, crop['image'],
                                   np.array([crop['bbox']]), 'xyxy')[0]
        k = result.pred_instances.keypoints[0]
        points.append(k @ crop['matrix'][:, :2].T + crop['matrix'][:, 2])
    return points


def _side(name: str) -> tuple:
    return (LEFT_COLOUR if name.startswith('left') else
            RIGHT_COLOUR if name.startswith('right') else CENTRE_COLOUR)


def draw_pose(img: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """COCO-17 ``keypoints`` (K, 2) drawn on a copy of ``img``: links
    ``LINE_PX`` wide, joints filled circles with a dark rim, coloured by
    the side of the body."""
    import cv2
    from synthetic_coco import COCO_KEYPOINTS, COCO_SKELETON

    out = img.copy()
    pts = np.round(np.asarray(keypoints, float) * 16).astype(np.int32)
    for a, b in COCO_SKELETON:
        side_a, side_b = (_side(COCO_KEYPOINTS[i - 1]) for i in (a, b))
        colour = side_a if side_a == side_b else CENTRE_COLOUR
        cv2.line(out, pts[a - 1].tolist(), pts[b - 1].tolist(), colour,
                 LINE_PX, cv2.LINE_AA, 4)
    for name, p in zip(COCO_KEYPOINTS, pts):
        cv2.circle(out, p.tolist(), (JOINT_PX + 1) * 16, (30, 30, 30), -1,
                   cv2.LINE_AA, 4)
        cv2.circle(out, p.tolist(), JOINT_PX * 16, _side(name), -1,
                   cv2.LINE_AA, 4)
    return out


def draw_comparison(crops: List[np.ndarray], predictions: List[list],
                    titles: List[str], path: str, caption: str = '') -> str:
    """One figure, rows = crops, columns = models: model ``j``'s keypoints
    ``predictions[j][i]`` (crop coordinates) drawn on crop ``i``, under the
    column title ``titles[j]`` (lines split at newlines), ``caption`` below.
    Crops are ``PANEL_H`` x ``PANEL_W`` BGR images. Written as PNG to
    ``path``, which is returned."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows, cols = len(crops), len(predictions)
    width = cols * PANEL_W + (cols + 1) * _GAP
    height = _HEADER + rows * PANEL_H + (rows - 1) * _GAP + _FOOTER
    canvas = np.full((height, width, 3), 255, np.uint8)
    for j, model in enumerate(predictions):
        x = _GAP + j * (PANEL_W + _GAP)
        for i, (crop, points) in enumerate(zip(crops, model)):
            y = _HEADER + i * (PANEL_H + _GAP)
            canvas[y:y + PANEL_H, x:x + PANEL_W] = draw_pose(crop, points)
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(canvas[..., ::-1], interpolation='nearest')
    ax.set_axis_off()
    for j, title in enumerate(titles):
        fig.text((_GAP + j * (PANEL_W + _GAP) + PANEL_W / 2) / width,
                 1 - (_HEADER / 2) / height, title, ha='center',
                 va='center', fontsize=12)
    fig.text(_GAP / width, (_FOOTER / 2) / height, caption, ha='left',
             va='center', fontsize=9, wrap=True)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def model_comparison(models: List[dict], data_root: str, path: str,
                     num_crops: int = 4) -> str:
    """The comparison figure of ``models`` (each ``title``, ``config``,
    ``checkpoint``, ``ap``) on the same generated val crops; see
    :func:`draw_comparison`."""
    crops = comparison_crops(data_root, num_crops)
    if not crops:
        raise ValueError(f'{data_root} has no annotated val person to draw')
    predictions = [predict_crops(m['config'], m['checkpoint'], crops)
                   for m in models]
    titles = [f'{m["title"]}\nAP {m["ap"]:.3f}' for m in models]
    caption = ('Generated val images, ground-truth person boxes; AP on the '
               'whole val set. Orange: the left side, blue: the right.')
    return draw_comparison([c['crop'] for c in crops], predictions, titles,
                           path, caption)


def read_scalars(path: str) -> List[dict]:
    """Records of an MMEngine ``scalars.json`` (a file, or the newest one in
    a work dir)."""
    if osp.isdir(path):
        paths = glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
        if not paths:
            return []
        path = max(paths, key=osp.getmtime)
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
