"""The DistilPose story on generated data, end to end, on a CPU.

    python tools/demo.py [--out results/demo] [--epochs N] [--seed S]
                         [--train-teacher] ...

1. generate a COCO-format dataset of synthetic people (data/synthcoco);
2. take the model zoo's stronger TokenPose teacher (model_zoo/synthcoco/,
   its sha256 checked against configs/tokenpose/synthcoco/metafile.yml by
   the checkpoint loader's check), or with ``--train-teacher`` re-create
   it in the work dir (six mim train runs, see :func:`train_teacher`);
3. distil the DistilPose student from it  (mim train mmpose <distill cfg>);
4. train the regression baseline: same network, data, seed and budget;
5. evaluate the three with CocoMetric, PCK@0.2 and EPE (mim test mmpose);
6. draw the three models' keypoints on the same generated val crops, one
   figure (docs/demo/comparison_seed<seed>.png), and run MMPoseInferencer
   with the student on generated images, saving the drawn poses (only
   generated images: models trained on generated people do not transfer
   to photographs; for real images convert the official COCO weights with
   tools/convert_official.py);
7. write results.md (AP, AR, params, GFLOPs and their share of the
   teacher's, latency) and the learning curves, with the model zoo's
   cheaper student, trained longer on more images, beside the demo's
   short-run one (read from configs/distilpose/synthcoco/metafile.yml).

Every step is an ordinary MMPose command, printed before it runs, so each can
be re-run alone. Training steps whose checkpoint already exists are skipped
(delete the work dir to retrain).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

import demo_helpers as helpers
import demo_report

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(ROOT, 'configs')
#: The demo teacher: the config of its last cosine cycle (a warm restart).
TEACHER_CFG = ('tokenpose/synthcoco/tokenpose_hrnet-w16-tiny_'
               '1xb16-20e-restart_synthcoco-128x96.py')
#: Its first cycle, and how many warm restarts on the demo's data follow.
TEACHER_FIRST_CFG = ('tokenpose/synthcoco/'
                     'tokenpose_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py')
TEACHER_RESTARTS = 3
#: The teacher after those cycles (a model-zoo entry of its own), which the
#: last cycle continues from.
TEACHER_DEMO_DATA_NAME = ('tokenpose_hrnet-w16-tiny_1xb16-4x20e_'
                          'synthcoco-128x96')
#: The last cycle: one more warm restart, on freshly generated images of
#: this seed (other people, poses and scenes than the demo's); more images
#: gained more than more epochs on the same ones (docs/demo.md).
TEACHER_EXTRA_EPOCHS = 10
TEACHER_EXTRA_DATA_SEED = 10
#: The demo teacher's model-zoo entry: the stronger teacher, after the last
#: cycle (several entries share the restart config).
TEACHER_NAME = 'tokenpose_hrnet-w16-tiny_1xb16-4x20e-8k10e_synthcoco-128x96'
#: The model zoo's cheap student, trained to the zoo budget, shown beside
#: the demo's short-run one.
ZOO_STUDENT_NAME = ('distilpose_hrnet-w16-tiny-3stage-pool2_1xb16-32e-9x16e_'
                    'synthcoco8k-128x96')
ZOO_STUDENT_METAFILE = osp.join(CFG, 'distilpose', 'synthcoco',
                                'metafile.yml')
#: The MMPose heatmap model whose trained HRNet the teacher starts from.
HM_TEACHER_CFG = ('topdown_heatmap/synthcoco/'
                  'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py')
STUDENT_INFER_CFG = (
    'distilpose/synthcoco/'
    'distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py')
# name: (title, training config, test config)
MODELS = {
    'hm_teacher': ('HRNet heatmap model', HM_TEACHER_CFG, HM_TEACHER_CFG),
    'teacher_first': ('TokenPose teacher, first cycle', TEACHER_FIRST_CFG,
                      TEACHER_FIRST_CFG),
    'teacher': ('TokenPose teacher', TEACHER_CFG, TEACHER_CFG),
    'teacher_extra': ('TokenPose teacher, cycle on more images',
                      TEACHER_CFG, TEACHER_CFG),
    'student': ('DistilPose student', 'distilpose/synthcoco/distilpose_'
                'hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.py',
                STUDENT_INFER_CFG),
    'baseline': ('regression baseline', 'distilpose/synthcoco/td-reg_'
                 'hrnet-w16-tiny-3stage-tde_1xb16-8e_synthcoco-128x96.py',
                 None),
}
#: The models of the report, in its order.
REPORTED = ('teacher', 'student', 'baseline')


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def run(cmd, logfile: str) -> None:
    """Run an MMPose command, its output going to ``logfile``."""
    run_parallel([(cmd, logfile)])


def run_parallel(jobs, threads=None) -> None:
    """Run MMPose commands side by side, each with ``threads`` torch
    threads (default: the machine's cores shared out between them), and
    wait for all. On a 2-core machine two 1-thread runs side by side take
    little longer than one 2-thread run: torch's CPU kernels gain little
    from the second thread at these sizes."""
    threads = threads or max(1, (os.cpu_count() or 1) // len(jobs))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    procs = []
    for cmd, logfile in jobs:
        log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
        with open(logfile, 'w') as f:
            procs.append((subprocess.Popen(
                cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT,
                env=env), logfile))
    failed = [logfile for proc, logfile in procs if proc.wait()]
    for logfile in failed:
        with open(logfile) as f:
            tail = f.readlines()[-25:]
        print(''.join(tail), file=sys.stderr)
    if failed:
        sys.exit(f'command failed, full logs: {", ".join(failed)}')


def mim(*args) -> list:
    return [osp.join(osp.dirname(sys.executable), 'mim'), *args]


def data_options(data_root: str) -> list:
    ann = osp.join(data_root, 'annotations', 'person_keypoints_val.json')
    return [
        f'train_dataloader.dataset.data_root={data_root}/',
        f'val_dataloader.dataset.data_root={data_root}/',
        f'test_dataloader.dataset.data_root={data_root}/',
        f'val_evaluator.0.ann_file={ann}', f'test_evaluator.0.ann_file={ann}'
    ]


def schedule_options(epochs=None, batch_size=None) -> list:
    """Options that change a config's schedule; none by default."""
    opts = []
    if batch_size:
        opts.append(f'train_dataloader.batch_size={batch_size}')
    if epochs:
        opts += [f'train_cfg.max_epochs={epochs}',
                 f'param_scheduler.1.end={epochs}']
    return opts


def last_checkpoint(work_dir: str):
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            ckpt = f.read().strip()
        if osp.isfile(ckpt):
            return ckpt
    return None


def train(name, args, options=(), work_name=None, data=None) -> str:
    """``mim train`` of one model; returns its last checkpoint."""
    return train_side_by_side([(name, options, work_name)], args,
                              data)[name]


def train_side_by_side(runs, args, data=None) -> dict:
    """``mim train`` of several models at once (``runs``: name, options,
    work-dir name) on ``data`` (default: the demo's); returns {name: last
    checkpoint}. A model whose checkpoint exists is not retrained."""
    ckpts, jobs, started = {}, [], []
    for name, options, work_name in runs:
        work_dir = osp.join(args.work_dir, work_name or name)
        ckpts[name] = last_checkpoint(work_dir)
        if ckpts[name]:
            log(f'{MODELS[name][0]}: {ckpts[name]} exists, not retraining')
            continue
        os.makedirs(work_dir, exist_ok=True)
        log(f'training the {MODELS[name][0]}')
        cfg = osp.join(CFG, MODELS[name][1])
        jobs.append((mim('train', 'mmpose', cfg, '--work-dir', work_dir,
                         '--cfg-options', *data_options(data or args.data),
                         f'randomness.seed={args.seed}', *options),
                     osp.join(work_dir, 'train.log')))
        started.append((name, work_dir))
    if jobs:
        start = time.time()
        run_parallel(jobs)
        titles = ', '.join(MODELS[name][0] for name, _ in started)
        log(f'{titles} trained in {time.time() - start:.0f} s')
    for name, work_dir in started:
        ckpts[name] = last_checkpoint(work_dir)
    return ckpts


def test(name, ckpt, args) -> dict:
    cfg = osp.join(CFG, MODELS[name][2] or MODELS[name][1])
    work_dir = osp.join(args.work_dir, f'test_{name}')
    os.makedirs(work_dir, exist_ok=True)
    run(mim('test', 'mmpose', cfg, '--checkpoint', ckpt, '--work-dir',
            work_dir, '--cfg-options', *data_options(args.data)),
        osp.join(work_dir, 'test.log'))
    newest = max(glob.glob(osp.join(work_dir, '*', '*.json')),
                 key=osp.getmtime)
    with open(newest) as f:
        return json.load(f)


def publish_beside(ckpt: str, name: str, args) -> str:
    """Publish ``ckpt`` into the work dir under the file name of the
    teacher entry ``name``, and say whether it is that shipped file."""
    shipped = helpers.zoo_entry(osp.join(CFG, TEACHER_CFG), name)
    path = osp.join(args.work_dir, osp.basename(shipped['file']))
    sha = helpers.publish(ckpt, path)
    same = 'the same file as' if sha == shipped['sha256'] else 'differs from'
    log(f'{name} re-created: {path} (sha256 {sha}); it {same} the shipped '
        f'{osp.relpath(shipped["file"], ROOT)}.')
    return path


def extra_data_command(args) -> str:
    """The generator command of the teacher's last cycle's images."""
    return (f'python tools/generate_synthetic_coco.py '
            f'{args.teacher_extra_data} --train-images '
            f'{args.teacher_extra_images} --val-images {args.val_images} '
            f'--seed {TEACHER_EXTRA_DATA_SEED}')


def train_teacher(args) -> str:
    """The teacher's recipe of record, six ``mim train`` runs with their
    configs' schedules (``--teacher-epochs`` shortens each): the MMPose
    HRNet heatmap model, the TokenPose teacher on that HRNet (a TokenPose on
    an untrained backbone sits at the mean pose for tens of epochs;
    docs/demo.md), ``TEACHER_RESTARTS`` warm restarts, each from the
    previous cycle's last checkpoint, then one more of
    ``TEACHER_EXTRA_EPOCHS`` on the extra images, from the published
    weights of the cycles before, with a checkpoint every epoch (the
    metafile's Training Command). Everything is written under the work
    dir; the shipped files are left as they are. Returns the last cycle's
    checkpoint."""
    epochs = schedule_options(args.teacher_epochs)
    hm = osp.join(args.work_dir, 'hm_teacher.pth')
    helpers.publish(train('hm_teacher', args, epochs), hm)
    ckpt = train('teacher_first', args,
                 [*epochs, f'model.backbone.init_cfg.checkpoint={hm}'])
    for cycle in range(2, TEACHER_RESTARTS + 2):
        ckpt = train('teacher', args, [*epochs, f'load_from={ckpt}'],
                     work_name=f'teacher_cycle{cycle}')
    demo_data_teacher = publish_beside(ckpt, TEACHER_DEMO_DATA_NAME, args)
    return train('teacher_extra', args,
                 extra_cycle_options(args, demo_data_teacher),
                 data=args.teacher_extra_data)


def extra_cycle_options(args, load_from: str) -> list:
    """The ``--cfg-options`` of the teacher's last cycle beyond its data
    and seed."""
    return [*schedule_options(args.teacher_epochs or TEACHER_EXTRA_EPOCHS),
            f'load_from={load_from}', 'default_hooks.checkpoint.interval=1']


def teacher_weights(args) -> str:
    """The shipped teacher (sha256 checked), or a re-trained one."""
    shipped = helpers.zoo_entry(osp.join(CFG, TEACHER_CFG), TEACHER_NAME)
    if not args.train_teacher:
        helpers.check_shipped(shipped['file'])
        log(f'teacher: {osp.relpath(shipped["file"], ROOT)} '
            f'(sha256 {shipped["sha256"][:12]}... as in the metafile)')
        return shipped['file']
    path = publish_beside(train_teacher(args), TEACHER_NAME, args)
    log('To ship the re-created teacher: copy it over '
        f'{osp.relpath(shipped["file"], ROOT)} and write its sha256 and '
        'metrics into the metafile.')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=osp.join(ROOT, 'results', 'demo'))
    parser.add_argument('--work-dir',
                        default=osp.join(ROOT, 'work_dirs', 'demo'))
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'synthcoco'))
    parser.add_argument(
        '--figure-dir', default=osp.join(ROOT, 'docs', 'demo'),
        help='where the comparison figure of the three models goes')
    parser.add_argument(
        '--epochs', type=int, default=None,
        help="epochs of the student and of the baseline (default: their "
        "configs')")
    parser.add_argument(
        '--train-teacher', action='store_true',
        help='re-create the teacher with its recipe of record, in the '
        'work dir, instead of using the shipped checkpoint')
    parser.add_argument(
        '--teacher-epochs', type=int, default=None,
        help="epochs of each --train-teacher run (default: their configs' "
        f"20, and {TEACHER_EXTRA_EPOCHS} for the cycle on extra images)")
    parser.add_argument(
        '--teacher-extra-data',
        default=osp.join(ROOT, 'data', 'synthcoco_8k'),
        help="the extra images of --train-teacher's last cycle, generated "
        f'with seed {TEACHER_EXTRA_DATA_SEED} (val images: --val-images)')
    parser.add_argument(
        '--teacher-extra-images', type=int, default=8000,
        help='training images of --teacher-extra-data')
    parser.add_argument('--train-images', type=int, default=2000)
    parser.add_argument('--val-images', type=int, default=200)
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seed of the generated dataset')
    parser.add_argument('--batch-size', type=int, default=None,
                        help="training batch (default: the configs' 16)")
    parser.add_argument('--latency-rounds', type=int, default=20,
                        help='interleaved timing rounds per model')
    parser.add_argument('--seed', type=int, default=0,
                        help='training seed (of the teacher too with '
                        '--train-teacher)')
    args = parser.parse_args()
    (args.out, args.work_dir, args.data, args.figure_dir,
     args.teacher_extra_data) = map(
        osp.abspath, (args.out, args.work_dir, args.data, args.figure_dir,
                      args.teacher_extra_data))
    os.makedirs(args.out, exist_ok=True)
    start = time.time()

    from benchmarking.analysis import machine_name

    # Read before hours of training: a malformed entry stops here.
    try:
        zoo = demo_report.zoo_model(ZOO_STUDENT_METAFILE, ZOO_STUDENT_NAME,
                                    args.data_seed, args.val_images)
    except ValueError as err:
        sys.exit(str(err))
    if not zoo['found']:
        log(f'{ZOO_STUDENT_NAME} is not in the metafile yet: the report '
            'shows no model-zoo student')
    helpers.ensure_dataset(args.data, args.train_images, args.val_images,
                           args.data_seed)
    helpers.check_dataset(args.data)
    if args.train_teacher:
        log(f'extra images of the teacher: {extra_data_command(args)}')
        helpers.ensure_dataset(args.teacher_extra_data,
                               args.teacher_extra_images, args.val_images,
                               TEACHER_EXTRA_DATA_SEED)
        helpers.check_dataset(args.teacher_extra_data)
    ckpts = dict(teacher=teacher_weights(args))
    # Side by side: the same budget, data and seed for both.
    t0 = time.time()
    ckpts.update(train_side_by_side(
        [('student', [f'model.teacher_ckpt={ckpts["teacher"]}',
                      *schedule_options(args.epochs, args.batch_size)],
          None),
         ('baseline', schedule_options(args.epochs, args.batch_size),
          None)], args))
    # Each run's time: until its last checkpoint was written.
    times = {name: max(osp.getmtime(ckpts[name]) - t0, 0)
             for name in ('student', 'baseline')}

    rows = []
    for name in REPORTED:
        title = MODELS[name][0]
        log(f'evaluating the {title}')
        rows.append(dict(
            name=name, title=title, train_s=times.get(name),
            iterations=(helpers.checkpoint_iterations(ckpts[name])
                        if name in times else None),
            metrics=test(name, ckpts[name], args)))
    log('measuring size and speed')
    configs = [osp.join(CFG, MODELS[name][2] or MODELS[name][1])
               for name in REPORTED]
    # The zoo student's cost counted here as the others', so the shares of
    # the teacher's FLOPs compare like with like.
    profiles = helpers.model_profiles(
        configs + ([zoo['config']] if zoo['found'] else []),
        rounds=args.latency_rounds)
    for row, profile in zip(rows + [zoo], profiles):
        row.update(profile)

    log('the three models on the same generated val crops')
    comparison = helpers.model_comparison(
        [dict(title=row['title'], checkpoint=ckpts[row['name']],
              config=osp.join(CFG, MODELS[row['name']][2] or
                              MODELS[row['name']][1]),
              ap=row['metrics']['coco/AP']) for row in rows],
        args.data,
        osp.join(args.figure_dir, f'comparison_seed{args.seed}.png'))
    log('inference with MMPoseInferencer (student)')
    pictures = helpers.draw_inference(
        osp.join(CFG, STUDENT_INFER_CFG), ckpts['student'], args.data,
        args.out)
    report = demo_report.write_report(
        rows, args, pictures, machine=machine_name(),
        seconds=time.time() - start, comparison=comparison, zoo=zoo)
    log(f'done in {time.time() - start:.0f} s: {report}')


if __name__ == '__main__':
    main()
