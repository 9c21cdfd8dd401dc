"""Exact resume: a distillation run killed with SIGKILL in the
middle of an epoch, or while a checkpoint is written, and resumed with
``--resume`` ends with the same weights, bit for bit, as an uninterrupted
run (CPU, deterministic)."""
import glob
import signal

import pytest
import torch
from engine_utils import (checkpoints, dump, make_data, run, save_teacher,
                          tiny_config, train_cmd)

from distilpose.checkpoint import safe_torch_load

EPOCHS = 3


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume')
    data = make_data(str(root / 'data'))
    return data, save_teacher(data, str(root / 'teacher.pth'))


def assert_same_weights(path, reference):
    """The checkpoint ``path`` holds the weights and step of ``reference``."""
    resumed, whole = safe_torch_load(str(path)), safe_torch_load(reference)
    assert whole['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in whole['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    assert whole['meta']['iter'] == resumed['meta']['iter']


@pytest.mark.slow
@pytest.mark.parametrize('num_workers', [0, 1])
def test_killed_and_resumed_run_ends_bit_identical(toy, tmp_path,
                                                   num_workers):
    """Augmentation draws from numpy in the main process (0 workers) or in
    a worker seeded by ``seed_worker_from_torch`` (1 worker, not
    persistent); validation after every epoch uses the RNGs in between."""
    data, teacher = toy
    cfg = tiny_config('student', data, str(tmp_path), max_epochs=EPOCHS,
                      teacher_ckpt=teacher)
    cfg.train_cfg.val_interval = 1
    if num_workers:
        cfg.train_dataloader.update(
            num_workers=num_workers,
            worker_init_fn=dict(type='seed_worker_from_torch'))
    config = dump(cfg, str(tmp_path / 'cfg.py'))
    cfg.custom_hooks.append(dict(type='KillAtIterHook', epoch=2, batch=2))
    killed_config = dump(cfg, str(tmp_path / 'killed.py'))

    def train(config, work_dir, *extra):
        return run(train_cmd(config, '--work-dir', str(tmp_path / work_dir),
                             *extra), cwd=str(tmp_path))

    proc = train(config, 'whole')
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = train(killed_config, 'killed')
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert checkpoints(tmp_path / 'killed') == ['epoch_1.pth']
    proc = train(config, 'killed', '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr

    final = f'epoch_{EPOCHS}.pth'
    assert_same_weights(tmp_path / 'killed' / final,
                        str(tmp_path / 'whole' / final))


@pytest.fixture(scope='module')
def uninterrupted(toy, tmp_path_factory):
    """The final checkpoint of a whole run of the config of the tests
    below (no validation before the last epoch)."""
    data, teacher = toy
    root = tmp_path_factory.mktemp('whole')
    cfg = tiny_config('student', data, str(root), max_epochs=EPOCHS,
                      teacher_ckpt=teacher)
    config = dump(cfg, str(root / 'cfg.py'))
    proc = run(train_cmd(config, '--work-dir', str(root / 'work')),
               cwd=str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return str(root / 'work' / f'epoch_{EPOCHS}.pth')


def killed_run(toy, tmp_path, kill_hook: dict):
    """Run the config of the tests below plus ``kill_hook`` in
    ``tmp_path / 'killed'``, which kills it; returns the config and a
    function that trains it there again."""
    data, teacher = toy
    cfg = tiny_config('student', data, str(tmp_path), max_epochs=EPOCHS,
                      teacher_ckpt=teacher)
    config = dump(cfg, str(tmp_path / 'cfg.py'))
    cfg.custom_hooks.append(kill_hook)
    killed_config = dump(cfg, str(tmp_path / 'killed.py'))

    def train(config, *extra):
        return run(train_cmd(config, '--work-dir', str(tmp_path / 'killed'),
                             *extra), cwd=str(tmp_path))

    proc = train(killed_config)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    return config, train


@pytest.mark.slow
def test_a_kill_while_a_checkpoint_is_written(toy, tmp_path, uninterrupted):
    """SIGKILL inside the write of ``epoch_2.pth`` (bytes written, not yet
    renamed): no ``epoch_2.pth``, ``--resume`` continues from epoch 1,
    removes the temporary file with a warning and ends with the weights
    of an uninterrupted run."""
    config, train = killed_run(
        toy, tmp_path, dict(type='KillWhileSavingHook', epoch=2))
    work_dir = tmp_path / 'killed'
    (stale, ) = glob.glob(str(work_dir / '.epoch_2.pth.*.tmp'))
    assert checkpoints(work_dir) == ['epoch_1.pth']
    assert (work_dir / 'last_checkpoint').read_text().endswith(
        'epoch_1.pth')

    proc = train(config, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'Removed {stale}: a checkpoint write that was killed' in log
    assert 'resumed epoch: 1' in log
    assert not glob.glob(str(work_dir / '.*.tmp'))
    assert_same_weights(work_dir / f'epoch_{EPOCHS}.pth', uninterrupted)


@pytest.mark.slow
def test_resume_skips_a_checkpoint_truncated_by_a_kill(toy, tmp_path,
                                                       uninterrupted):
    """A kill while ``epoch_2.pth`` was written in place (MMEngine's own
    writer) left it truncated: ``--resume`` warns, resumes from epoch 1
    and ends with the weights of an uninterrupted run."""
    config, train = killed_run(
        toy, tmp_path, dict(type='KillAtIterHook', epoch=3, batch=1))
    newest = tmp_path / 'killed' / 'epoch_2.pth'
    data = newest.read_bytes()
    newest.write_bytes(data[:len(data) // 3])
    proc = train(config, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'--resume skips {newest}' in log
    assert 'resumed epoch: 1' in log
    assert_same_weights(tmp_path / 'killed' / f'epoch_{EPOCHS}.pth',
                        uninterrupted)
