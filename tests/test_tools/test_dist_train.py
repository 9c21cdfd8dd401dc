"""``tools/dist_train.sh`` and ``tools/slurm_train.sh``, MMPose's launch
scripts on the installed MMPose's ``tools/train.py``: two processes train
the distiller on the CPU (gloo); the Slurm command is MMPose's; bad
arguments are refused with what to fix."""
import os
import os.path as osp
import socket
import stat
import subprocess
import sys

import pytest
from conftest import ROOT
from engine_utils import (TESTS, checkpoints, dump, make_data, save_teacher,
                          scalars, tiny_config)

DIST = osp.join(ROOT, 'tools', 'dist_train.sh')
SLURM = osp.join(ROOT, 'tools', 'slurm_train.sh')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sh(script, *args, cwd, **env):
    env = {**os.environ, 'PYTHONPATH': TESTS, 'OMP_NUM_THREADS': '1',
           'PYTHON': sys.executable, **env}
    return subprocess.run(['bash', script, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_dist_train_sh_trains_the_distiller_with_two_processes(tmp_path):
    data = make_data(str(tmp_path / 'data'), num_train=8, num_val=2)
    teacher = save_teacher(data, str(tmp_path / 'teacher.pth'))
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('student', data, work_dir, batch_size=2,
                      teacher_ckpt=teacher, augment=False)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.val_interval = 10
    config = dump(cfg, str(tmp_path / 'cfg.py'))
    proc = sh(DIST, config, '2', '--cfg-options',
              'model.backbone.norm_cfg.type=DistSyncBN', cwd=str(tmp_path),
              PORT=str(free_port()))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert checkpoints(work_dir) == ['epoch_1.pth']  # rank 0 alone
    steps = scalars(work_dir)
    assert steps and {'loss_kpt', 'loss_kpt_token'} <= set(steps[0])
    (stamp, ) = [d for d in os.listdir(work_dir)
                 if osp.isdir(osp.join(work_dir, d))]
    with open(osp.join(work_dir, stamp, f'{stamp}.log')) as f:
        log = f.read()
    assert 'Distributed launcher: pytorch' in log
    assert 'GPU number: 2' in log  # MMEngine's name for the world size


@pytest.mark.parametrize('args, message', [
    ((), 'usage: '),
    (('cfg.py', 'two'),
     "GPUS must be a positive number of processes, got 'two'"),
    (('absent.py', '2'), "config file 'absent.py' does not exist"),
])
def test_dist_train_sh_refuses_bad_arguments(tmp_path, args, message):
    proc = sh(DIST, *args, cwd=str(tmp_path))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def fake(tmp_path, name: str, body: str) -> str:
    """An executable ``name`` in ``tmp_path/bin`` running ``body``."""
    folder = tmp_path / 'bin'
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text('#!/usr/bin/env bash\n' + body + '\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_python_without_mmpose_is_named(tmp_path):
    (tmp_path / 'cfg.py').write_text('')
    python = fake(tmp_path, 'python', 'exit 1')
    proc = sh(DIST, 'cfg.py', '2', cwd=str(tmp_path), PYTHON=python)
    assert proc.returncode == 2
    assert f'mmpose is not importable by {python}' in proc.stderr


def test_slurm_train_sh_runs_mmposes_train_py_under_srun(tmp_path):
    (tmp_path / 'cfg.py').write_text('')
    fake(tmp_path, 'srun', 'printf "%s\\n" "$@" > srun_args.txt')
    path = f'{tmp_path / "bin"}:{os.environ["PATH"]}'
    proc = sh(SLURM, 'gpu', 'distil', 'cfg.py', 'work', '2',
              '--cfg-options', 'train_cfg.max_epochs=1', cwd=str(tmp_path),
              PATH=path)
    assert proc.returncode == 0, proc.stderr
    args = (tmp_path / 'srun_args.txt').read_text().splitlines()
    train = osp.join(osp.dirname(__import__('mmpose').__file__), '.mim',
                     'tools', 'train.py')
    assert args == [
        '-p', 'gpu', '--job-name=distil', '--gres=gpu:2', '--ntasks=2',
        '--ntasks-per-node=2', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        sys.executable, '-u', train, 'cfg.py', '--work-dir=work',
        '--launcher=slurm', '--cfg-options', 'train_cfg.max_epochs=1'
    ]
    # GPUS from the environment, as MMPose's script takes it
    proc = sh(SLURM, 'gpu', 'distil', 'cfg.py', 'work', cwd=str(tmp_path),
              PATH=path, GPUS='16')
    args = (tmp_path / 'srun_args.txt').read_text().splitlines()
    assert '--ntasks=16' in args and '--gres=gpu:8' in args


def test_slurm_train_sh_refuses_missing_arguments(tmp_path):
    proc = sh(SLURM, 'gpu', 'distil', cwd=str(tmp_path))
    assert proc.returncode == 2 and 'usage: ' in proc.stderr
