"""Toy data, toy configs and test-only hooks for the engine and reliability
tests (runner-level runs of the real configs at toy size).

Configs are derived from the CPU-sized ``synthcoco`` configs: 128x96 input,
a one-layer token encoder, batch 4, no workers. Importing this module also
registers the test-only hooks, so a config run by a subprocess can use them
with ``custom_imports=dict(imports=[..., 'engine_utils'])`` (:func:`dump`) and
``PYTHONPATH`` set to ``tests/``.
"""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import uuid

import mmpose
import pytest
import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

import distilpose  # noqa: F401  (registers the project)

TESTS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(TESTS)
CONFIGS = {
    'teacher': 'tokenpose/synthcoco/'
    'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py',
    'student': 'distilpose/synthcoco/'
    'distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py',
    'baseline': 'distilpose/synthcoco/'
    'td-reg_stemnet-tiny-tde_1xb16-8e_synthcoco-128x96.py',
}
MMPOSE_MIM = osp.join(osp.dirname(mmpose.__file__), '.mim')
MMPOSE_TRAIN = osp.join(MMPOSE_MIM, 'tools', 'train.py')


def make_data(root: str, num_train: int = 8, num_val: int = 4) -> str:
    """A tiny synthetic COCO person-keypoint dataset; returns ``root``."""
    from synthetic_coco import generate_dataset
    generate_dataset(root, num_train_images=num_train,
                     num_val_images=num_val, seed=0, image_size=(128, 128),
                     workers=0, progress=False)
    return root


def coco_dataset_info() -> dict:
    """MMPose's COCO ``dataset_info`` as a plain dict."""
    from mmengine.config import Config
    path = osp.join(MMPOSE_MIM, 'configs', '_base_', 'datasets', 'coco.py')
    return Config.fromfile(path).dataset_info.to_dict()


def write_dataset_info(info: dict, path: str) -> str:
    """Write an MMPose ``dataset_info`` file (for metainfo=from_file)."""
    with open(path, 'w') as f:
        f.write(f'dataset_info = {info!r}\n')
    return path


def without_keypoint(info: dict, name: str) -> dict:
    """A K-1 layout: ``info`` with keypoint ``name`` and its links removed
    (the other keypoints renumbered, flip pairs kept)."""
    kpts = [k for _, k in sorted(info['keypoint_info'].items())]
    index = [k['name'] for k in kpts].index(name)
    kpts.pop(index)
    links = [s for s in info['skeleton_info'].values()
             if name not in s['link']]
    keep = [i for i in range(len(kpts) + 1) if i != index]
    return dict(
        dataset_name=f'{info["dataset_name"]}_without_{name}',
        keypoint_info={i: dict(k, id=i) for i, k in enumerate(kpts)},
        skeleton_info={i: dict(s, id=i) for i, s in enumerate(links)},
        joint_weights=[info['joint_weights'][i] for i in keep],
        sigmas=[info['sigmas'][i] for i in keep])


def drop_keypoint_from_data(data_root: str, index: int) -> None:
    """Remove keypoint ``index`` (0-based) from the COCO annotation files
    of ``data_root``, in place."""
    for split in ('train', 'val'):
        path = osp.join(data_root, 'annotations',
                        f'person_keypoints_{split}.json')
        with open(path) as f:
            coco = json.load(f)
        for ann in coco['annotations']:
            kpts = ann['keypoints']
            del kpts[3 * index:3 * index + 3]
            ann['num_keypoints'] = sum(v > 0 for v in kpts[2::3])
        for cat in coco['categories']:
            del cat['keypoints'][index]
            cat['skeleton'] = [[a - (a > index + 1), b - (b > index + 1)]
                               for a, b in cat['skeleton']
                               if index + 1 not in (a, b)]
        with open(path, 'w') as f:
            json.dump(coco, f)


def _tiny_model(model, num_keypoints):
    """One encoder layer; K keypoints in the neck and the head."""
    model.neck.update(depth=1, num_keypoints=num_keypoints)
    if model.head.type == 'TokenPoseHead':
        model.head.out_channels = num_keypoints
    else:
        model.head.num_joints = num_keypoints


def tiny_config(kind: str, data_root: str, work_dir: str, *,
                batch_size: int = 4, max_epochs: int = 1,
                num_keypoints: int = 17, metainfo: str = None,
                teacher_ckpt: str = None, augment: bool = True):
    """A toy-size config of ``kind`` ('teacher', 'student', 'baseline').

    ``metainfo``: a dataset_info file for both datasets. ``teacher_ckpt``
    (students): the teacher is the toy teacher config's model.
    ``augment=False`` trains on the val pipeline plus targets (no random
    transform), so runs with other batch splits see the same samples.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, 'configs', CONFIGS[kind]))
    _tiny_model(cfg.model, num_keypoints)
    if kind == 'student':
        teacher = Config.fromfile(osp.join(ROOT, 'configs',
                                           CONFIGS['teacher'])).model
        _tiny_model(teacher, num_keypoints)
        cfg.model.teacher_cfg = teacher.to_dict()
        cfg.model.teacher_ckpt = teacher_ckpt
    data_root = data_root.rstrip('/') + '/'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=batch_size, num_workers=0,
                      persistent_workers=False)
        loader.dataset.data_root = data_root
        if metainfo:
            loader.dataset.metainfo = dict(from_file=metainfo)
    if not augment:
        # The config's own targets (its codec), on the val pipeline.
        target = [t for t in cfg.train_dataloader.dataset.pipeline
                  if t['type'] == 'GenerateTarget']
        pipeline = list(cfg.val_pipeline[:-1]) + target + \
            [dict(type='PackPoseInputs')]
        cfg.train_dataloader.dataset.pipeline = pipeline
    ann = f'{data_root}annotations/person_keypoints_val.json'
    # COCO AP alone: the toy runs check the metric plumbing, not PCK/EPE.
    cfg.val_evaluator = dict(type='CocoMetric', ann_file=ann)
    cfg.test_evaluator = dict(type='CocoMetric', ann_file=ann)
    cfg.train_cfg.update(max_epochs=max_epochs, val_interval=max_epochs)
    cfg.default_hooks.logger.interval = 1
    # Every epoch kept, no best-AP copy (the teacher config saves one).
    cfg.default_hooks.checkpoint.update(interval=1, save_best=None,
                                        max_keep_ckpts=-1)
    cfg.log_processor.window_size = 1
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.work_dir = work_dir
    # Unique names: MMEngine keeps one visualizer and message hub per name
    # in the process, and tests build several runners.
    cfg.experiment_name = f'{kind}_{uuid.uuid4().hex[:8]}'
    cfg.visualizer.name = cfg.experiment_name
    return cfg


@pytest.fixture
def one_thread():
    """One torch thread during the test: in-process toy runs on the 2
    shared cores are several times faster without OpenMP contention (the
    subprocess runs get OMP_NUM_THREADS=1 from :func:`run`)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build_runner(cfg):
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)


def save_teacher(data_root: str, path: str, num_keypoints: int = 17,
                 metainfo: str = None) -> str:
    """Save a randomly initialised toy teacher (no training) to ``path``."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = tiny_config('teacher', data_root, osp.dirname(path),
                      num_keypoints=num_keypoints, metainfo=metainfo)
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def checkpoints(work_dir: str) -> list:
    return sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))


def scalars(work_dir: str, key: str = 'loss') -> list:
    """The records of a run's ``vis_data/scalars.json`` that have ``key``
    (``'loss'``: training steps; ``'coco/AP'``: evaluations)."""
    (stamp, ) = [d for d in os.listdir(work_dir)
                 if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                        'scalars.json'))]
    with open(osp.join(work_dir, stamp, 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f]
    return [r for r in records if key in r]


def dump(cfg, path: str) -> str:
    cfg.custom_imports = dict(
        imports=[
            'distilpose', 'distilpose.runtime.mmengine_patches',
            'engine_utils'
        ],
        allow_failed_imports=False)
    cfg.dump(path)
    return path


def run(args, cwd, timeout=300):
    """Run ``args`` with ``tests/`` on PYTHONPATH and one OpenMP thread;
    returns the completed process."""
    env = dict(os.environ, PYTHONPATH=TESTS, OMP_NUM_THREADS='1')
    return subprocess.run(args, cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True)


def train_cmd(config: str, *extra) -> list:
    return [sys.executable, MMPOSE_TRAIN, config, *extra]


def _is_step(runner, batch_idx, epoch, batch):
    """Whether this is batch ``batch`` (1-based, -1: last) of ``epoch``
    (1-based)."""
    last = len(runner.train_dataloader)
    return runner.epoch + 1 == epoch and batch_idx + 1 == (
        last if batch == -1 else batch)


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """Test only: SIGKILL this process after batch ``batch`` of ``epoch``,
    as a cluster pre-emption would, with no clean-up."""

    def __init__(self, epoch: int, batch: int):
        self.step = (epoch, batch)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if _is_step(runner, batch_idx, *self.step):
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillWhileSavingHook(Hook):
    """Test only: SIGKILL this process while the checkpoint of ``epoch``
    (1-based) is written: its bytes are in the temporary file, the rename
    has not happened (``os.fsync`` of ``distilpose.fileio.atomic_write``,
    which checkpoint saving goes through)."""

    priority = 'LOW'  # before CheckpointHook (VERY_LOW) saves the epoch

    def __init__(self, epoch: int):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            def killed(fd):
                os.kill(os.getpid(), signal.SIGKILL)
            os.fsync = killed  # the process dies in the next write


@HOOKS.register_module()
class PoisonWeightsHook(Hook):
    """Test only: set the model's first parameter to NaN before batch
    ``batch`` of ``epoch``, so that the loss of that step is NaN."""

    def __init__(self, epoch: int, batch: int):
        self.step = (epoch, batch)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if _is_step(runner, batch_idx, *self.step):
            model = getattr(runner.model, 'module', runner.model)
            with torch.no_grad():
                next(model.parameters()).fill_(float('nan'))
