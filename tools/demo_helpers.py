"""Building blocks of ``tools/demo.py``: data, profiling, pictures, report.

The demo chains MMPose's own commands; this module holds what is not one of
them: the generated dataset (made once per set of arguments), a model's
size and speed, inference pictures, and the results page with its plots.
"""
import glob
import json
import os.path as osp
import statistics
import time
from typing import Dict, List

import numpy as np


def ensure_dataset(root: str, train_images: int, val_images: int,
                   seed: int) -> None:
    """Generate the synthetic COCO-format dataset unless ``root`` already
    holds one made with the same arguments."""
    import hashlib

    from .datasets import synthetic_coco
    with open(synthetic_coco.__file__, 'rb') as f:
        generator = hashlib.sha1(f.read()).hexdigest()[:12]
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


def model_profiles(configs: List[str],
                   rounds: int = 20) -> List[Dict[str, float]]:
    """Per config: parameters, GFLOPs (MMEngine counting, and with the
    attention matmuls) and median batch-1 CPU latency with 2 threads, random
    weights. Latencies are taken in interleaved rounds, so that load drift
    on a shared machine hits every model alike."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from .analysis import model_complexity

    init_default_scope('mmpose')
    models, inputs, stats = [], [], []
    for config in configs:
        cfg = Config.fromfile(config)
        w, h = cfg.codec['input_size']
        model = MODELS.build(cfg.model).eval()
        model.forward = model._forward  # tensors in, tensors out
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
                model(x)
                if round_ >= 2:
                    t.append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    for stat, t in zip(stats, times):
        stat['latency_ms'] = statistics.median(t) * 1e3
    return stats


def draw_inference(config: str, checkpoint: str, data_root: str,
                   out_dir: str, num_images: int = 4) -> List[str]:
    """Run ``MMPoseInferencer`` (no detector) with the student on generated
    validation images, given their person boxes, and on a photograph
    shipped with matplotlib as a whole image; save the drawn poses as PNG.
    Returns the PNG paths."""
    import matplotlib
    from mmpose.apis import MMPoseInferencer

    from .apis import inference_images

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
    images.append(
        osp.join(matplotlib.get_data_path(), 'sample_data',
                 'grace_hopper.jpg'))
    bboxes.append(None)  # the whole photograph
    inferencer = MMPoseInferencer(
        pose2d=config, pose2d_weights=checkpoint, det_model='whole_image',
        device='cpu')
    vis_dir = osp.join(out_dir, 'inference')
    inference_images(inferencer, images, bboxes, out_dir=vis_dir,
                     kpt_thr=0.0)
    return sorted(glob.glob(osp.join(vis_dir, '*.png')))


def read_scalars(work_dir: str) -> List[dict]:
    """The training log records (``vis_data/scalars.json``) of a run."""
    paths = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    if not paths:
        return []
    with open(max(paths, key=osp.getmtime)) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_curves(rows, work_root: str, out_dir: str) -> List[str]:
    """Loss curves of the three runs and the AP/AR bars, as PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for row in rows:
        recs = [r for r in read_scalars(osp.join(work_root, row['name']))
                if 'loss' in r]
        if not recs:
            continue
        steps = [r['step'] for r in recs]
        axes[0].plot(steps, [r['loss'] for r in recs], label=row['title'])
        if 'loss_kpt' in recs[0] and row['name'] != 'teacher':
            axes[1].plot(steps, [r['loss_kpt'] for r in recs],
                         label=row['title'])
    axes[0].set(title='total training loss', xlabel='iteration',
                yscale='log')
    axes[1].set(title='coordinate loss (SmoothL1)', xlabel='iteration',
                yscale='log')
    for ax in axes[:2]:
        ax.legend()
    names = [row['title'] for row in rows]
    x = np.arange(len(rows))
    for offset, key in ((-0.27, 'coco/AP'), (0., 'coco/AR'), (0.27, 'PCK')):
        values = [row['metrics'][key] * 100 for row in rows]
        bars = axes[2].bar(x + offset, values, 0.27,
                           label=key.replace('coco/', '') +
                           ('@0.2' if key == 'PCK' else ''))
        axes[2].bar_label(bars, fmt='%.1f')
    axes[2].set(title='CocoMetric on the generated val set', ylabel='%',
                xticks=x)
    axes[2].set_xticklabels(names, rotation=10)
    axes[2].legend()
    fig.tight_layout()
    path = osp.join(out_dir, 'curves_and_ap.png')
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def write_report(rows, args, pictures: List[str], machine: str,
                 seconds: float) -> str:
    """Write ``results.md`` and ``results.json`` into ``args.out``."""
    plots = plot_curves(rows, args.work_dir, args.out)
    lines = [
        '# DistilPose demo results', '',
        f'Generated data: {args.train_images} train / {args.val_images} val '
        f'images (seed {args.seed}); {args.teacher_epochs} epochs for the '
        f'teacher, {args.epochs} for the student and for the baseline; '
        f'machine: {machine}; total {seconds / 60:.1f} min.', '',
        '| model | AP | AP50 | AR | PCK@0.2 | EPE (px) | params (M) '
        '| GFLOPs (MMEngine) | GMACs incl. attention '
        '| latency b1 (ms, 2 threads) |',
        '|---|---|---|---|---|---|---|---|---|---|'
    ]
    for row in rows:
        m = row['metrics']
        lines.append(
            f'| {row["title"]} | {m["coco/AP"] * 100:.1f} '
            f'| {m["coco/AP .5"] * 100:.1f} | {m["coco/AR"] * 100:.1f} '
            f'| {m["PCK"] * 100:.1f} | {m["EPE"]:.1f} '
            f'| {row["params_m"]:.2f} | {row["gflops"]:.3f} '
            f'| {row["gmacs_attn"]:.3f} | {row["latency_ms"]:.1f} |')
    student, baseline = (next(r['metrics'] for r in rows if r['name'] == n)
                         for n in ('student', 'baseline'))
    verdict = ('beats' if student['coco/AP'] > baseline['coco/AP'] else
               'does not beat')
    lines += [
        '', f'On AP the distilled student {verdict} the regression baseline '
        'trained alone with the same budget '
        f'({student["coco/AP"] * 100:.1f} vs {baseline["coco/AP"] * 100:.1f}'
        f'); PCK@0.2 {student["PCK"] * 100:.1f} vs '
        f'{baseline["PCK"] * 100:.1f}, mean error {student["EPE"]:.1f} vs '
        f'{baseline["EPE"]:.1f} px.', ''
    ]
    lines += [f'![{osp.basename(p)}]({osp.relpath(p, args.out)})'
              for p in plots + pictures]
    path = osp.join(args.out, 'results.md')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(dict(rows=rows, seconds=seconds, machine=machine,
                       plots=plots, pictures=pictures,
                       epochs=args.epochs, teacher_epochs=args.teacher_epochs,
                       seed=args.seed), f, indent=1)
    return path
