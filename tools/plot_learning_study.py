"""Plot validation AP against training iterations for several runs, with
the teacher's AP as a line: the learning study of docs/learning.md.

    python tools/plot_learning_study.py OUT.png \\
        --run "DistilPose student=model_zoo/.../student.log.json" \\
        --run "regression baseline=model_zoo/.../baseline.log.json" \\
        [--teacher-ap 0.676 --teacher-label "teacher (same val set)"] \\
        [--mark 1512 "demo budget"] [--level 0.618 "90 % of the teacher"]

Each ``--run`` is ``LABEL=PATH``, PATH an MMEngine ``scalars.json`` (or a
work dir holding one, the newest), or ``PATH+PATH...`` for a run continued
by warm restarts (each part's iterations follow the previous part's last).
Iterations are counted from the training records (a validation record
carries its epoch).
"""
import argparse
import os.path as osp

from demo_helpers import read_scalars


def ap_by_iteration(records: list) -> tuple:
    """(iterations, AP) of the validation records of one run: each at the
    last training iteration logged in its epoch (within the logging
    interval of the epoch's end)."""
    last = {}
    for r in records:
        if 'loss' in r:
            last[r['epoch']] = max(last.get(r['epoch'], 0), r['step'])
    if not last:
        raise ValueError('no training records: is this an MMEngine '
                         'scalars.json of a training run?')
    val = [r for r in records if 'coco/AP' in r and r['step'] in last]
    return [last[r['step']] for r in val], [r['coco/AP'] for r in val]


def chained_ap_by_iteration(parts: list) -> tuple:
    """(iterations, AP) of a run made of ``parts`` (lists of records), each
    a warm restart of the one before: its iterations follow the last
    training iteration logged by the parts before it."""
    iters, ap, offset = [], [], 0
    for records in parts:
        part_iters, part_ap = ap_by_iteration(records)
        iters += [offset + i for i in part_iters]
        ap += part_ap
        offset += max(r['step'] for r in records if 'loss' in r)
    return iters, ap


def parse_run(text: str) -> tuple:
    """``LABEL=PATH[+PATH...]`` -> (label, [paths])."""
    label, sep, paths = text.partition('=')
    if not sep or not label or not paths:
        raise argparse.ArgumentTypeError(
            f'--run {text!r}: give LABEL=PATH, e.g. "student=work_dirs/s"')
    paths = paths.split('+')
    for path in paths:
        if not osp.exists(path):
            raise argparse.ArgumentTypeError(f'--run {text!r}: {path} does '
                                             'not exist')
    return label, paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='the PNG to write')
    parser.add_argument('--run', type=parse_run, action='append',
                        required=True,
                        help='LABEL=PATH, or LABEL=PATH+PATH... for a run '
                        'and its warm restarts (repeatable)')
    parser.add_argument('--teacher-ap', type=float)
    parser.add_argument('--teacher-label', default='teacher')
    parser.add_argument('--level', nargs=2, action='append', default=[],
                        metavar=('AP', 'LABEL'),
                        help='a horizontal line, e.g. 90 %% of the teacher')
    parser.add_argument('--mark', nargs=2, action='append', default=[],
                        metavar=('ITERATIONS', 'LABEL'),
                        help='a vertical line, e.g. a budget')
    args = parser.parse_args()

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, paths in args.run:
        iters, ap = chained_ap_by_iteration(
            [read_scalars(path) for path in paths])
        ax.plot(iters, ap, 'o-', ms=4, label=label)
        print(f'{label}: ' + ', '.join(f'{i}: {a:.3f}'
                                       for i, a in zip(iters, ap)))
    if args.teacher_ap is not None:
        ax.axhline(args.teacher_ap, ls='--', c='k', lw=1,
                   label=f'{args.teacher_label} {args.teacher_ap:.3f}')
    for level, label in args.level:
        try:
            level = float(level)
        except ValueError:
            parser.error(f'--level {level!r}: give the AP as a number, then '
                         'its label')
        ax.axhline(level, ls='-.', c='gray', lw=1, label=label)
    for iters, label in args.mark:
        ax.axvline(float(iters), ls=':', c='gray', lw=1)
        ax.text(float(iters), 0.02, f' {label}', color='gray', rotation=90,
                va='bottom')
    ax.set(xlabel='training iterations (batch 16)',
           ylabel='CocoMetric AP (val, ground-truth boxes)', ylim=(0, 1))
    ax.grid(alpha=0.3)
    # below the axes: inside, long run labels hide the teacher's level
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.14))
    fig.savefig(args.out, dpi=100, bbox_inches='tight')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
