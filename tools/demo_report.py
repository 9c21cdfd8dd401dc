"""The results page of ``tools/demo.py``: its table, its learning curves,
and the model zoo's cheap student read from its metafile entry.

The paper's claim has two halves: the distilled student beats its
regression baseline, and it comes close to the teacher at a fraction of the
cost. The demo's short run shows the first; the model zoo's cheaper
student, trained longer on more images, stands beside it for the second,
with every row's GFLOPs and its share of the teacher's.
"""
import json
import os.path as osp
import re
from typing import Dict, List, Optional

import yaml
from demo_helpers import read_scalars

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Line colours, one per model, the same in every panel.
COLOURS = dict(teacher='C0', student='C1', baseline='C2', zoo='C3')


def _seed_and_images(dataset: str) -> tuple:
    """(seed, val images) of a metafile result's Dataset text, e.g.
    'synthcoco val (seed 0, 200 images, ground-truth boxes)'."""
    seed = re.search(r'\bseed (\d+)\b', dataset)
    images = re.search(r'\b(\d+) images\b', dataset)
    return (int(seed.group(1)) if seed else None,
            int(images.group(1)) if images else None)


def _number(value, field: str, where: str) -> float:
    try:
        return float(str(value).replace(',', ''))
    except ValueError:
        raise ValueError(f'{where}: {field} is {value!r}, not a number; '
                         'write it as the other entries do (e.g. 0.304)')


def _iterations(meta: dict, where: str) -> Optional[int]:
    """``Metadata.Iterations``, or the count in ``Metadata.Training
    Budget`` ('7,410 iterations of batch 16 ...'); None if neither."""
    if meta.get('Iterations') is not None:
        return int(_number(meta['Iterations'], 'Metadata.Iterations',
                           where))
    budget = re.search(r'([\d,]+) iterations',
                       str(meta.get('Training Budget', '')))
    return int(budget.group(1).replace(',', '')) if budget else None


def _gflops(meta: dict, where: str) -> Optional[float]:
    """``Metadata.GFLOPs``, or ``Metadata.FLOPs`` (in FLOPs, as the COCO
    entries write it); None if neither."""
    if meta.get('GFLOPs') is not None:
        return _number(meta['GFLOPs'], 'Metadata.GFLOPs', where)
    if meta.get('FLOPs') is not None:
        return _number(meta['FLOPs'], 'Metadata.FLOPs', where) / 1e9
    return None


def zoo_model(metafile: str, name: str, data_seed: int,
              val_images: int) -> dict:
    """The entry ``name`` of ``metafile`` as the report shows it:
    ``name``, ``metafile`` and ``found``; where found also ``config`` (its
    path), ``ap``, ``pck`` (None if not given), ``dataset`` (the result's
    Dataset text), ``same_val`` (whether that result is on this run's val
    images: seed ``data_seed``, ``val_images`` images), ``iterations`` and
    ``metafile_gflops`` (None where not given).

    The result shown is the one on this run's val images where the entry
    has it, else its first with an AP (``Results[].Metrics.AP``)."""
    zoo = dict(name=name, metafile=metafile, found=False)
    with open(metafile) as f:
        models = (yaml.safe_load(f) or {}).get('Models') or []
    found = [m for m in models if m.get('Name') == name]
    if not found:
        return zoo
    where = f'{metafile}, entry {name}'
    if len(found) > 1:
        raise ValueError(f'{where}: {len(found)} entries have this Name; '
                         'keep one')
    entry, meta = found[0], found[0].get('Metadata') or {}
    results = [r for r in entry.get('Results') or []
               if 'AP' in (r.get('Metrics') or {})]
    if not results:
        raise ValueError(f'{where}: no Results[].Metrics.AP; add the AP '
                         'its Test Command measured, as the other entries '
                         'do')
    config = osp.join(ROOT, str(entry.get('Config', '')))
    if not entry.get('Config') or not osp.isfile(config):
        raise ValueError(f'{where}: Config {entry.get("Config")!r} is not '
                         'a file; name its inference config, relative to '
                         'the repository')
    same_val = [r for r in results
                if _seed_and_images(str(r.get('Dataset', ''))) ==
                (data_seed, val_images)]
    result = (same_val or results)[0]
    metrics = result['Metrics']
    pck = metrics.get('PCK@0.2')
    zoo.update(
        found=True, config=config, dataset=str(result.get('Dataset', '')),
        same_val=bool(same_val),
        ap=_number(metrics['AP'], 'Results[].Metrics.AP', where),
        pck=None if pck is None else _number(
            pck, 'Results[].Metrics.PCK@0.2', where),
        iterations=_iterations(meta, where),
        metafile_gflops=_gflops(meta, where))
    return zoo


def gflops_share(gflops: float, teacher_gflops: float) -> str:
    """``gflops`` as a share of the teacher's, e.g. ``'22 %'``."""
    return f'{100 * gflops / teacher_gflops:.0f} %'


def cost_text(model: dict, teacher_gflops: Optional[float]) -> str:
    """A model's training iterations and GFLOPs, with their share of the
    teacher's, for the curves' legends: the short run and the long one
    compared at their cost."""
    cost = [f'{model["iterations"]:,} iterations'] if model.get(
        'iterations') else []
    if model.get('gflops') is not None:
        share = (f' ({gflops_share(model["gflops"], teacher_gflops)} of '
                 "the teacher's)" if teacher_gflops else '')
        cost.append(f'{model["gflops"]:.3f} GFLOPs{share}')
    return ', '.join(cost)


def zoo_label(zoo: dict, teacher_gflops: float) -> str:
    """The zoo student's legend entry: its cost and the AP of its
    metafile."""
    val = 'same val images' if zoo['same_val'] else zoo['dataset']
    return (f'model-zoo student, {cost_text(zoo, teacher_gflops)}:\n'
            f'AP {zoo["ap"]:.3f} (metafile; {val})')


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
                zoo: Optional[dict] = None) -> List[str]:
    """Validation AP and PCK@0.2 against epochs, and the training losses,
    of the models this run trained; the teacher (tested in this run) and
    the model zoo's student (its metafile's figures) as horizontal
    reference lines. The teacher's own training ran on other images and
    epochs, so its curve would not share the x axis."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 6))
    teacher = next((r for r in rows if r['name'] == 'teacher'), None)
    teacher_gflops = teacher.get('gflops') if teacher else None
    for row in rows:
        source = osp.join(work_root, row['name'])
        if row['name'] == 'teacher' or not osp.exists(source):
            continue
        curve = learning_curve(read_scalars(source))
        colour = COLOURS.get(row['name'])
        cost = cost_text(row, teacher_gflops)
        label = row['title'] + (f', {cost}' if cost else '')
        for ax, key in ((axes[0], 'ap'), (axes[1], 'pck')):
            ax.plot(curve['val_epoch'], curve[key], '-o', ms=3,
                    color=colour, label=label)
        axes[2].plot(curve['loss_epoch'], curve['loss'], color=colour,
                     label=label)
    if teacher:
        m = teacher['metrics']
        cost = cost_text(teacher, None)
        for ax, value in ((axes[0], m['coco/AP']), (axes[1], m['PCK'])):
            ax.axhline(value, ls='--', color=COLOURS['teacher'],
                       label=f'{teacher["title"]} (tested here'
                       f'{"; " + cost if cost else ""}): {value:.3f}')
    if zoo and zoo['found'] and teacher:
        label = zoo_label(zoo, teacher_gflops)
        axes[0].axhline(zoo['ap'], ls=':', lw=2, color=COLOURS['zoo'],
                        label=label)
        if zoo['pck'] is not None:
            axes[1].axhline(zoo['pck'], ls=':', lw=2, color=COLOURS['zoo'],
                            label=f'model-zoo student: {zoo["pck"]:.3f}')
    axes[0].set(title='CocoMetric AP (generated val images)',
                xlabel='epoch', ylabel='AP', ylim=(0, 1))
    axes[1].set(title='PCK@0.2', xlabel='epoch', ylim=(0, 1))
    axes[2].set(title='training loss (each its own)', xlabel='epoch',
                yscale='log')
    for ax in axes:
        ax.grid(alpha=0.3)
        # Below the axes: the reference lines cross the whole width.
        ax.legend(fontsize=8, loc='upper center',
                  bbox_to_anchor=(0.5, -0.13))
    fig.tight_layout()
    path = osp.join(out_dir, 'learning_curves.png')
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def _cell(value, fmt: str) -> str:
    return '-' if value is None else format(value, fmt)


def table_rows(rows, zoo: Optional[dict]) -> List[str]:
    """The report's table: this run's models, measured, and the model
    zoo's student (AP and PCK from its metafile, its cost measured here
    as the others'), each with its share of the teacher's GFLOPs."""
    lines = [
        '| model | AP | AP50 | AR | PCK@0.2 | EPE (px) | iterations '
        '| training (s) | params (M) | GFLOPs (MMEngine) '
        "| % of the teacher's GFLOPs | GMACs incl. attention "
        '| latency b1 (ms, 2 threads) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    teacher_gflops = next(r['gflops'] for r in rows
                          if r['name'] == 'teacher')
    listed = [(row['title'], row['metrics'], row) for row in rows]
    if zoo and zoo['found']:
        listed.append(('model-zoo student (metafile)',
                       {'coco/AP': zoo['ap'], 'PCK': zoo['pck']}, zoo))
    for title, m, row in listed:
        pck = None if m.get('PCK') is None else m['PCK'] * 100
        lines.append(' | '.join([
            f'| {title}', _cell(m['coco/AP'], '.3f'),
            _cell(m.get('coco/AP .5'), '.3f'), _cell(m.get('coco/AR'),
                                                     '.3f'),
            _cell(pck, '.1f'), _cell(m.get('EPE'), '.1f'),
            _cell(row.get('iterations'), ','),
            _cell(row.get('train_s') or None, '.0f'),
            f'{row["params_m"]:.2f}', f'{row["gflops"]:.3f}',
            gflops_share(row['gflops'], teacher_gflops),
            f'{row["gmacs_attn"]:.3f}', f'{row["latency_ms"]:.1f} |']))
    return lines


def zoo_note(zoo: Optional[dict]) -> List[str]:
    """What the zoo row is, or the one line saying it is missing."""
    if not zoo:
        return []
    rel = osp.relpath(zoo['metafile'], ROOT)
    if not zoo['found']:
        return [f'The model zoo\'s cheap student `{zoo["name"]}` has no '
                f'entry in {rel} yet, so it is not shown.', '']
    val = ('the same val images as this run' if zoo['same_val'] else
           f'{zoo["dataset"]}, not this run\'s val images')
    flops = ('' if zoo['metafile_gflops'] is None else
             f' (the metafile gives {zoo["metafile_gflops"]:.3f})')
    return [
        f'Model-zoo student: `{zoo["name"]}` ({rel}); its AP and PCK are '
        f'the metafile\'s, on {val}; its size, GFLOPs{flops} and latency '
        f'are measured here from `{osp.relpath(zoo["config"], ROOT)}`.', ''
    ]


def write_report(rows, args, pictures: List[str], machine: str,
                 seconds: float, comparison: Optional[str] = None,
                 zoo: Optional[dict] = None) -> str:
    """Write ``results.md`` and ``results.json`` into ``args.out``; the
    ``comparison`` figure (see ``demo_helpers.model_comparison``) is linked
    where it is; ``zoo`` (see :func:`zoo_model`, with its profile) is the
    model zoo's student shown beside this run's."""
    plots = plot_curves(rows, args.work_dir, args.out, zoo)
    teacher = ('re-trained (--train-teacher)' if args.train_teacher else
               'the shipped checkpoint')
    lines = [
        '# DistilPose demo results', '',
        f'Generated data: {args.train_images} train / {args.val_images} val '
        f'images (data seed {args.data_seed}); teacher: {teacher}; '
        f'student and baseline: training seed {args.seed}, same network, '
        'data and budget; '
        f'machine: {machine}; total {seconds / 60:.1f} min.', '',
        *table_rows(rows, zoo), '', *zoo_note(zoo)
    ]
    student, baseline = (next(r['metrics'] for r in rows if r['name'] == n)
                         for n in ('student', 'baseline'))
    gain = student['coco/AP'] - baseline['coco/AP']
    lines += [
        f'Distillation gain: student AP - baseline AP = {gain:+.3f} '
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
        json.dump(dict(rows=rows, zoo_student=zoo, seconds=seconds,
                       machine=machine, plots=plots, pictures=pictures,
                       comparison=comparison, gain_ap=gain,
                       epochs=args.epochs, seed=args.seed,
                       data_seed=args.data_seed,
                       train_teacher=args.train_teacher), f, indent=1)
    return path
