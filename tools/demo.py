"""The DistilPose story on generated data, end to end, on a CPU.

    python tools/demo.py [--out results/demo] [--epochs N] [--seed S]
                         [--teacher-epochs N] [--train-images N] ...

1. generate a COCO-format dataset of synthetic people (data/synthcoco);
2. train the TokenPose teacher            (mim train mmpose <teacher cfg>);
3. train the DistilPose student from it   (mim train mmpose <distill cfg>);
4. train the regression baseline, same budget (mim train mmpose <cfg>);
5. evaluate the three with CocoMetric     (mim test mmpose <cfg>);
6. run MMPoseInferencer with the student on generated images and on a real
   photograph shipped with matplotlib, saving the drawn poses;
7. write results.md (AP, AR, params, GFLOPs, latency) and plots.

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

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(ROOT, 'configs')
MODELS = {
    'teacher': ('TokenPose teacher',
                'tokenpose/synthcoco/'
                'tokenpose_stemnet-tiny_1xb32-30e_synthcoco-128x96.py',
                None),
    'student': ('DistilPose student',
                'distilpose/synthcoco/'
                'distilpose_stemnet-tiny_1xb32-30e_synthcoco-128x96.py',
                'distilpose/synthcoco/'
                'distilpose_stemnet-tiny_inference_synthcoco-128x96.py'),
    'baseline': ('regression baseline',
                 'distilpose/synthcoco/'
                 'td-reg_stemnet-tiny-tde_1xb32-30e_synthcoco-128x96.py',
                 None),
}


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def run(cmd, logfile: str) -> None:
    """Run an MMPose command, its output going to ``logfile``."""
    log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
    with open(logfile, 'w') as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                              cwd=ROOT)
    if proc.returncode:
        with open(logfile) as f:
            tail = f.readlines()[-25:]
        sys.exit(''.join(tail) + f'\ncommand failed, full log: {logfile}')


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


def schedule_options(epochs: int, seed: int, batch_size: int) -> list:
    return [
        f'train_dataloader.batch_size={batch_size}',
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
        f'param_scheduler.1.end={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        f'randomness.seed={seed}'
    ]


def train(name, args, extra=()) -> str:
    cfg = osp.join(CFG, MODELS[name][1])
    work_dir = osp.join(args.work_dir, name)
    epochs = args.teacher_epochs if name == 'teacher' else args.epochs
    ckpt = osp.join(work_dir, f'epoch_{epochs}.pth')
    if osp.isfile(ckpt):
        log(f'{MODELS[name][0]}: {ckpt} exists, not retraining')
        return ckpt
    os.makedirs(work_dir, exist_ok=True)
    log(f'training the {MODELS[name][0]} ({epochs} epochs)')
    start = time.time()
    run(mim('train', 'mmpose', cfg, '--work-dir', work_dir, '--cfg-options',
            *data_options(args.data),
            *schedule_options(epochs, args.seed, args.batch_size),
            *extra),
        osp.join(work_dir, 'train.log'))
    log(f'{MODELS[name][0]} trained in {time.time() - start:.0f} s')
    return ckpt


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=osp.join(ROOT, 'results', 'demo'))
    parser.add_argument('--work-dir',
                        default=osp.join(ROOT, 'work_dirs', 'demo'))
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'synthcoco'))
    parser.add_argument('--epochs', type=int, default=6,
                        help='epochs of the student and of the baseline')
    parser.add_argument('--teacher-epochs', type=int, default=8)
    parser.add_argument('--train-images', type=int, default=2000)
    parser.add_argument('--val-images', type=int, default=200)
    parser.add_argument('--batch-size', type=int, default=32,
                        help='training batch of all three models')
    parser.add_argument('--latency-rounds', type=int, default=20,
                        help='interleaved timing rounds per model')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    args.out, args.work_dir, args.data = map(
        osp.abspath, (args.out, args.work_dir, args.data))
    os.makedirs(args.out, exist_ok=True)
    start = time.time()

    from distilpose.analysis import machine_name
    from distilpose.demo import (draw_inference, ensure_dataset,
                                 model_profiles, write_report)

    ensure_dataset(args.data, args.train_images, args.val_images, args.seed)
    ckpts = dict(teacher=train('teacher', args))
    ckpts['student'] = train('student', args,
                             [f'model.teacher_ckpt={ckpts["teacher"]}'])
    ckpts['baseline'] = train('baseline', args)

    rows = []
    for name, (title, _, _) in MODELS.items():
        log(f'evaluating the {title}')
        rows.append(dict(name=name, title=title,
                         metrics=test(name, ckpts[name], args)))
    log('measuring size and speed')
    profiles = model_profiles(
        [osp.join(CFG, infer_cfg or train_cfg)
         for _, train_cfg, infer_cfg in MODELS.values()],
        rounds=args.latency_rounds)
    for row, profile in zip(rows, profiles):
        row.update(profile)

    log('inference with MMPoseInferencer (student)')
    pictures = draw_inference(
        osp.join(CFG, MODELS['student'][2]), ckpts['student'], args.data,
        args.out)
    report = write_report(rows, args, pictures, machine=machine_name(),
                          seconds=time.time() - start)
    log(f'done in {time.time() - start:.0f} s: {report}')


if __name__ == '__main__':
    main()
