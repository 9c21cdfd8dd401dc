"""Building blocks of ``tools/demo.py``: data, shipped weights, profiling,
pictures, report.

The demo chains MMPose's own commands; this module holds what is not one of
them: the generated dataset (made once per set of arguments), the model-zoo
entries of the shipped weights, a model's size and speed, the pictures
(the three models side by side on the same generated crops, the student's
inferencer output), and the results page with its learning curves.
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

from distilpose.fileio import sha256sum

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def zoo_entry(config: str, name: Optional[str] = None) -> dict:
    """The shipped weights of ``config``: file, sha256 and training log, as
    the ``metafile.yml`` beside the config names them. ``name`` picks one
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
    meta = found[0]['Metadata']
    return dict(
        file=osp.join(ROOT, found[0]['Weights']),
        sha256=meta['SHA256'],
        log=osp.join(ROOT, meta['Training Log']))


def check_sha256(path: str, expected: str) -> None:
    """Stop with instructions unless ``path`` has the sha256 ``expected``."""
    if not osp.isfile(path):
        raise SystemExit(
            f'The shipped teacher {path} is missing. Restore it with '
            f'`git checkout -- {osp.relpath(path, ROOT)}` or re-create it '
            'with `python tools/demo.py --train-teacher`.')
    actual = sha256sum(path)
    if actual != expected:
        raise SystemExit(
            f'{path} has sha256 {actual}, not the {expected} of its '
            'metafile: the file was changed. Restore it with `git checkout '
            f'-- {osp.relpath(path, ROOT)}`, or after `tools/demo.py '
            '--train-teacher` write the new sha256 into the metafile.')


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


def learning_curve(records: List[dict]) -> Dict[str, list]:
    """Training loss by epoch and validation AP / PCK by epoch."""
    train = [r for r in records if 'loss' in r]
    iters_per_epoch = max(1, max((r['step'] for r in train), default=1) //
                          max((r['epoch'] for r in train), default=1))
    val = [r for r in records if 'coco/AP' in r]
    return dict(
        loss_epoch=[r['step'] / iters_per_epoch for r in train],
        loss=[r['loss'] for r in train],
        val_epoch=[r['step'] for r in val],
        ap=[r['coco/AP'] for r in val],
        pck=[r.get('PCK', float('nan')) for r in val])


def plot_curves(rows, work_root: str, out_dir: str,
                teacher_log: Optional[str]) -> List[str]:
    """Validation AP and PCK@0.2 against epochs for the three models (the
    teacher's from its shipped training log), and the training losses."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for row in rows:
        source = (teacher_log if row['name'] == 'teacher' and teacher_log
                  else osp.join(work_root, row['name']))
        if source is None or not osp.exists(source):
            continue
        curve = learning_curve(read_scalars(source))
        style = '--' if row['name'] == 'teacher' else '-'
        axes[0].plot(curve['val_epoch'], curve['ap'], style + 'o', ms=3,
                     label=row['title'])
        axes[1].plot(curve['val_epoch'], curve['pck'], style + 'o', ms=3,
                     label=row['title'])
        axes[2].plot(curve['loss_epoch'], curve['loss'], style,
                     label=row['title'])
    axes[0].set(title='CocoMetric AP (generated val images)',
                xlabel='epoch', ylabel='AP', ylim=(0, 1))
    axes[1].set(title='PCK@0.2', xlabel='epoch', ylim=(0, 1))
    axes[2].set(title='training loss (each its own)', xlabel='epoch',
                yscale='log')
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = osp.join(out_dir, 'learning_curves.png')
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def write_report(rows, args, pictures: List[str], machine: str,
                 seconds: float, teacher_log: Optional[str],
                 comparison: Optional[str] = None) -> str:
    """Write ``results.md`` and ``results.json`` into ``args.out``; the
    ``comparison`` figure (see :func:`model_comparison`) is linked where it
    is."""
    plots = plot_curves(rows, args.work_dir, args.out, teacher_log)
    teacher = ('re-trained (--train-teacher)' if args.train_teacher else
               'the shipped checkpoint')
    lines = [
        '# DistilPose demo results', '',
        f'Generated data: {args.train_images} train / {args.val_images} val '
        f'images (data seed {args.data_seed}); teacher: {teacher}; '
        f'student and baseline: training seed {args.seed}, same network, '
        'data and budget; '
        f'machine: {machine}; total {seconds / 60:.1f} min.', '',
        '| model | AP | AP50 | AR | PCK@0.2 | EPE (px) | training (s) '
        '| params (M) | GFLOPs (MMEngine) | GMACs incl. attention '
        '| latency b1 (ms, 2 threads) |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for row in rows:
        m = row['metrics']
        train_s = f'{row["train_s"]:.0f}' if row.get('train_s') else '-'
        lines.append(
            f'| {row["title"]} | {m["coco/AP"]:.3f} '
            f'| {m["coco/AP .5"]:.3f} | {m["coco/AR"]:.3f} '
            f'| {m["PCK"] * 100:.1f} | {m["EPE"]:.1f} | {train_s} '
            f'| {row["params_m"]:.2f} | {row["gflops"]:.3f} '
            f'| {row["gmacs_attn"]:.3f} | {row["latency_ms"]:.1f} |')
    student, baseline = (next(r['metrics'] for r in rows if r['name'] == n)
                         for n in ('student', 'baseline'))
    gain = student['coco/AP'] - baseline['coco/AP']
    lines += [
        '', f'Distillation gain: student AP - baseline AP = {gain:+.3f} '
        f'({student["coco/AP"]:.3f} vs {baseline["coco/AP"]:.3f}); PCK@0.2 '
        f'{student["PCK"] * 100:.1f} vs {baseline["PCK"] * 100:.1f}, mean '
        f'error {student["EPE"]:.1f} vs {baseline["EPE"]:.1f} px.', ''
    ]
    if comparison:
        lines += [
            'The three models on the same generated val crops (models '
            'trained on generated people do not transfer to photographs; '
            'for real images convert the official COCO weights with '
            '`tools/convert_official.py`):', '',
            f'![teacher, student and baseline on generated val crops]'
            f'({osp.relpath(comparison, args.out)})', ''
        ]
    lines += [f'![{osp.basename(p)}]({osp.relpath(p, args.out)})'
              for p in plots + pictures]
    path = osp.join(args.out, 'results.md')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(dict(rows=rows, seconds=seconds, machine=machine,
                       plots=plots, pictures=pictures,
                       comparison=comparison, gain_ap=gain,
                       epochs=args.epochs, seed=args.seed,
                       data_seed=args.data_seed,
                       train_teacher=args.train_teacher), f, indent=1)
    return path
