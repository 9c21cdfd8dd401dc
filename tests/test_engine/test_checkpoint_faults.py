"""Faults: checkpoints are written atomically,
``--resume`` skips a truncated newest checkpoint, and a non-finite
prediction of the distiller reaches ``FiniteLossHook``."""
import os
import os.path as osp
import types

import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, checkpoints, make_data, save_teacher,
                          tiny_config)
from mmengine.fileio.backends import LocalBackend
from mmengine.runner.checkpoint import save_checkpoint

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose import checkpoint as safe
from distilpose.checkpoint import safe_torch_load
from distilpose.models.losses import ScoreDistilLoss
from distilpose.runtime import resume as resume_module
from distilpose.runtime.hooks import (ResumeFromReadableCheckpointHook,
                                      resume_hook)
from distilpose.runtime.resume import latest_readable_checkpoint


# ------------------------------------------------------------ atomic saves
def test_checkpoints_are_written_to_a_temporary_file_then_renamed(
        tmp_path, monkeypatch):
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint(dict(state_dict={'w': torch.ones(3)}), path)
    assert os.listdir(tmp_path) == ['epoch_1.pth']

    def killed(fd):  # the process dies after the bytes, before the rename
        raise KeyboardInterrupt
    monkeypatch.setattr(safe.os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(dict(state_dict={'w': torch.zeros(3)}), path)
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left
    assert torch.equal(safe_torch_load(path)['state_dict']['w'],
                       torch.ones(3))


def test_a_temporary_file_never_takes_the_checkpoint_name(tmp_path,
                                                          monkeypatch):
    written = []
    real_open = open

    def spy(file, mode='r', *args, **kwargs):
        written.append((str(file), mode))
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr('builtins.open', spy)
    LocalBackend().put(b'data', tmp_path / 'iter_5.pth')
    monkeypatch.undo()
    (name, mode), = [w for w in written if 'w' in w[1] or 'x' in w[1]]
    assert osp.dirname(name) == str(tmp_path) and name.endswith('.tmp')
    assert (tmp_path / 'iter_5.pth').read_bytes() == b'data'


# --------------------------------------------------------- resume fallback
def _work_dir_with_truncated_newest(tmp_path):
    for epoch in (1, 2, 3):
        torch.save(dict(state_dict={'w': torch.full((1000, ), epoch)}),
                   tmp_path / f'epoch_{epoch}.pth')
    data = (tmp_path / 'epoch_3.pth').read_bytes()
    (tmp_path / 'epoch_3.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    return tmp_path


def test_the_newest_readable_checkpoint_is_found(tmp_path):
    work_dir = _work_dir_with_truncated_newest(tmp_path)
    chosen, skipped = latest_readable_checkpoint(str(work_dir))
    assert chosen == str(work_dir / 'epoch_2.pth')
    (path, reason), = skipped
    assert path == str(work_dir / 'epoch_3.pth')
    assert 'truncated' in reason


def run_resume_hook(work_dir, monkeypatch, resume: bool):
    """The hook's ``before_run`` on a stand-in runner; returns the runner
    and what the hook logged, as (message, keyword arguments)."""
    logged = []
    for module in (resume_hook, resume_module):
        monkeypatch.setattr(module, 'print_log',
                            lambda msg, **kw: logged.append((msg, kw)))
    runner = types.SimpleNamespace(_resume=resume, _load_from=None,
                                   work_dir=str(work_dir))
    ResumeFromReadableCheckpointHook().before_run(runner)
    return runner, logged


def test_resume_falls_back_with_a_warning_naming_the_file(
        tmp_path, monkeypatch):
    work_dir = _work_dir_with_truncated_newest(tmp_path)
    runner, logged = run_resume_hook(work_dir, monkeypatch, resume=True)
    assert runner._load_from == str(work_dir / 'epoch_2.pth')
    (message, kwargs), = logged
    assert f'--resume skips {work_dir / "epoch_3.pth"}' in message
    assert f'Resuming from {work_dir / "epoch_2.pth"}' in message
    assert kwargs['level'] == 30  # WARNING


def test_resume_takes_a_readable_latest_or_the_given_checkpoint(tmp_path):
    torch.save({}, tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    for load_from, taken in ((None, str(tmp_path / 'epoch_1.pth')),
                             ('given.pth', 'given.pth')):
        runner = types.SimpleNamespace(_resume=True, _load_from=load_from,
                                       work_dir=str(tmp_path))
        ResumeFromReadableCheckpointHook().before_run(runner)
        assert runner._load_from == taken


def test_temporary_files_of_a_killed_write_are_removed_on_the_next_run(
        tmp_path, monkeypatch):
    torch.save({}, tmp_path / 'epoch_1.pth')
    stale = tmp_path / '.epoch_2.pth.0123abcd.tmp'
    stale.write_bytes(b'PK\x03\x04 the first bytes of a checkpoint')
    (tmp_path / '.notes.tmp').write_text('not a checkpoint write')
    _, logged = run_resume_hook(tmp_path, monkeypatch, resume=False)
    assert sorted(os.listdir(tmp_path)) == ['.notes.tmp', 'epoch_1.pth']
    (message, kwargs), = logged
    assert message.startswith(f'Removed {stale}: a checkpoint write that '
                              'was killed left it')
    assert kwargs['level'] == 30  # WARNING


# ---------------------------------------------------- non-finite predictions
def test_score_targets_of_non_finite_coordinates_are_nan():
    heatmaps = torch.arange(2 * 3 * 4 * 5.).reshape(2, 3, 4, 5)
    coords = torch.tensor([[[0., 0.], [1., 1.], [float('nan'), 0.5]],
                           [[float('inf'), 0.], [2., 0.5], [0.5, 0.]]])
    targets = ScoreDistilLoss.score_targets(coords, heatmaps)[..., 0]
    assert targets[0, 0] == heatmaps[0, 0, 0, 0]
    assert targets[0, 1] == heatmaps[0, 1, 3, 4]
    assert targets[1, 1] == 0  # finite but outside the map
    assert targets[1, 2] == heatmaps[1, 2, 0, 2]
    assert targets[0, 2].isnan() and targets[1, 0].isnan()
    loss = ScoreDistilLoss()(torch.zeros(2, 3, 1), coords, heatmaps,
                             torch.ones(2, 3))
    assert loss.isnan()


@pytest.mark.usefixtures('one_thread')
def test_a_nan_prediction_of_the_distiller_reaches_finite_loss_hook(
        tmp_path):
    data = make_data(str(tmp_path / 'data'))
    teacher = save_teacher(data, str(tmp_path / 'teacher.pth'))
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('student', data, work_dir, max_epochs=2,
                      teacher_ckpt=teacher)
    cfg.custom_hooks.append(dict(type='PoisonWeightsHook', epoch=2,
                                 batch=1))
    with pytest.raises(FloatingPointError) as err:
        build_runner(cfg).train()
    message = str(err.value)
    assert 'Non-finite loss at epoch 2, iteration 1 ' in message
    assert 'loss_score=nan' in message and 'loss_kpt=nan' in message
    assert checkpoints(work_dir) == ['epoch_1.pth']
