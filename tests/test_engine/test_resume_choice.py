"""What ``--resume`` continues from: ``last_checkpoint`` is trusted only
when it names a complete checkpoint of this work dir; anything else falls
back to the newest complete one with a warning naming what was skipped and
why, and ``resume`` with a ``load_from`` older than the work dir's newest
checkpoint is refused."""
import os.path as osp
import shutil
import types

import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, make_data, tiny_config
from mmengine.hooks import CheckpointHook

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose.runtime.hooks import (ResumeFromReadableCheckpointHook,
                                      resume_hook)
from distilpose.runtime.resume import ResumeError


def save(path, epoch: int, iters_per_epoch: int = 2) -> str:
    """A stand-in checkpoint of ``epoch`` (with MMEngine's meta)."""
    torch.save(dict(meta=dict(epoch=epoch, iter=epoch * iters_per_epoch),
                    state_dict={'w': torch.full((4, ), epoch)}), path)
    return str(path)


def resume(work_dir, monkeypatch, load_from=None, hooks=()):
    """The hook's ``before_run`` on a stand-in runner with ``--resume``;
    returns what it resumes from and the warnings it logged."""
    logged = []
    monkeypatch.setattr(resume_hook, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    runner = types.SimpleNamespace(_resume=True, _load_from=load_from,
                                   work_dir=str(work_dir), hooks=list(hooks))
    ResumeFromReadableCheckpointHook().before_run(runner)
    warnings = [msg for msg, kw in logged if kw.get('level') == 30]
    return runner._load_from, warnings


@pytest.mark.parametrize('content, reason', [
    (b'', 'it is empty (its write was cut short, e.g. by a full disk)'),
    (b'\n  \n', 'it is empty'),
    (b'\xff\xfe\x00\x81garbage', "it is not text (starts with b'\\xff"),
    (b'/a/epoch_1.pth\n/b/epoch_2.pth', 'it does not hold one file path'),
])
def test_resume_skips_an_unusable_last_checkpoint(tmp_path, monkeypatch,
                                                  content, reason):
    first, second = save(tmp_path / 'epoch_1.pth', 1), \
        save(tmp_path / 'epoch_2.pth', 2)
    (tmp_path / 'last_checkpoint').write_bytes(content)
    chosen, warnings = resume(tmp_path, monkeypatch)
    assert chosen == second != first
    (message, ) = warnings
    assert message.startswith(
        f'--resume skips {tmp_path / "last_checkpoint"}: {reason}')
    assert message.endswith(f'Resuming from {second}.')


def test_resume_follows_a_sound_last_checkpoint_quietly(tmp_path,
                                                        monkeypatch):
    save(tmp_path / 'epoch_1.pth', 1)
    named = save(tmp_path / 'epoch_2.pth', 2)
    (tmp_path / 'last_checkpoint').write_text(named)
    assert resume(tmp_path, monkeypatch) == (named, [])


def test_resume_follows_last_checkpoint_and_names_newer_checkpoints(
        tmp_path, monkeypatch):
    """A newer ``epoch_N.pth`` is left by an earlier run in this work dir,
    or saved by this one while the update of ``last_checkpoint`` after it
    failed: ``last_checkpoint`` decides, as in MMEngine, and a warning says
    what will be overwritten and how to take the newer one instead."""
    named = save(tmp_path / 'epoch_1.pth', 1)
    newer = save(tmp_path / 'epoch_2.pth', 2)
    (tmp_path / 'epoch_3.pth').write_bytes(b'PK\x03\x04 cut short')
    (tmp_path / 'last_checkpoint').write_text(named)
    chosen, (message, ) = resume(tmp_path, monkeypatch)
    assert chosen == named
    assert message == (
        f'{tmp_path} holds {newer}, newer than {named} that '
        f'{tmp_path / "last_checkpoint"} names: --resume follows '
        f'{tmp_path / "last_checkpoint"}, and training overwrites {newer} '
        f'when it gets there. If {newer} is from this run (the update of '
        'last_checkpoint was cut short), stop and run `--resume '
        f'{newer}` instead. Resuming from {named}.')


def test_resume_falls_back_below_a_truncated_named_checkpoint(
        tmp_path, monkeypatch):
    """Only checkpoints older than the one ``last_checkpoint`` names can
    replace it: ``epoch_3.pth`` is from an earlier run."""
    older = save(tmp_path / 'epoch_1.pth', 1)
    (tmp_path / 'epoch_2.pth').write_bytes(b'PK\x03\x04 cut short')
    save(tmp_path / 'epoch_3.pth', 3)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    chosen, (message, ) = resume(tmp_path, monkeypatch)
    assert chosen == older
    assert message.startswith(f'--resume skips {tmp_path / "epoch_2.pth"}: '
                              'it is truncated')


def test_resume_without_last_checkpoint_takes_the_newest_checkpoint(
        tmp_path, monkeypatch):
    save(tmp_path / 'epoch_1.pth', 1)
    newest = save(tmp_path / 'epoch_2.pth', 2)
    chosen, (message, ) = resume(tmp_path, monkeypatch)
    assert chosen == newest
    assert message.startswith(f'{tmp_path / "last_checkpoint"} does not '
                              'exist')


def test_a_copied_work_dir_resumes_from_its_own_checkpoint(tmp_path,
                                                           monkeypatch):
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    original.mkdir()
    save(original / 'epoch_1.pth', 1)
    (original / 'last_checkpoint').write_text(str(original / 'epoch_1.pth'))
    shutil.copytree(original, copy)
    save(original / 'epoch_1.pth', 7)  # the original went on elsewhere
    chosen, (message, ) = resume(copy, monkeypatch)
    assert chosen == str(copy / 'epoch_1.pth')
    assert message.startswith(
        f'{copy / "last_checkpoint"} names {original / "epoch_1.pth"}, '
        f'outside {copy} (a work dir copied or moved from elsewhere): '
        f'--resume takes {copy / "epoch_1.pth"}, the file of that name '
        'here.')


def test_a_last_checkpoint_outside_the_work_dir_is_never_followed(
        tmp_path, monkeypatch):
    work_dir, elsewhere = tmp_path / 'work', tmp_path / 'elsewhere'
    work_dir.mkdir()
    elsewhere.mkdir()
    ours = save(work_dir / 'epoch_1.pth', 1)
    theirs = save(elsewhere / 'best.pth', 9)
    (work_dir / 'last_checkpoint').write_text(theirs)
    chosen, (message, ) = resume(work_dir, monkeypatch)
    assert chosen == ours
    assert message == (
        f'--resume skips {work_dir / "last_checkpoint"}: it names {theirs}, '
        f'outside {work_dir}, and {work_dir} has no best.pth. Resuming '
        f'from {ours}.')


def test_checkpoints_in_the_hooks_out_dir_are_trusted(tmp_path,
                                                      monkeypatch):
    work_dir = tmp_path / 'work'
    folder = tmp_path / 'ckpts' / 'work'
    folder.mkdir(parents=True)
    work_dir.mkdir()
    named = save(folder / 'epoch_3.pth', 3)
    (work_dir / 'last_checkpoint').write_text(named)
    hook = CheckpointHook(interval=1, out_dir=str(tmp_path / 'ckpts'))
    assert resume(work_dir, monkeypatch, hooks=[hook]) == (named, [])


def test_resume_with_nothing_complete_left_stops_and_says_why(
        tmp_path, monkeypatch):
    (tmp_path / 'epoch_1.pth').write_bytes(b'PK\x03\x04 cut short')
    (tmp_path / 'last_checkpoint').write_bytes(b'')
    with pytest.raises(ResumeError) as err:
        resume(tmp_path, monkeypatch)
    message = str(err.value)
    assert message.startswith(f'--resume found no complete checkpoint in '
                              f'{tmp_path}: --resume skips')
    assert f'--resume skips {tmp_path / "epoch_1.pth"}: it is truncated' \
        in message
    assert 'Resume from a complete one with `--resume FILE`, or train ' \
        'from scratch without --resume' in message


def test_resume_of_an_empty_work_dir_trains_from_scratch(tmp_path,
                                                         monkeypatch):
    assert resume(tmp_path, monkeypatch) == (None, [])


def test_resume_from_a_load_from_behind_the_work_dir_is_refused(
        tmp_path, monkeypatch):
    """``resume`` + ``load_from`` would continue from epoch 1 and overwrite
    the work dir's ``epoch_2.pth`` and later."""
    old = save(tmp_path / 'epoch_1.pth', 1)
    newest = save(tmp_path / 'epoch_2.pth', 2)
    (tmp_path / 'last_checkpoint').write_text(newest)
    with pytest.raises(ResumeError) as err:
        resume(tmp_path, monkeypatch, load_from=old)
    message = str(err.value)
    assert message.startswith(f'resume=True with load_from={old} ')
    assert (f'would continue from iteration 2, but {tmp_path} holds a '
            f'newer checkpoint, {newest} (iteration 4), which this run '
            'would overwrite') in message
    assert f'To continue from {newest}: `--resume {newest}`.' in message
    assert f'To restart from {old}: use another --work-dir' in message


@pytest.mark.parametrize('given', ['epoch_2.pth', 'elsewhere.pth'])
def test_resume_from_a_load_from_not_behind_the_work_dir_goes_on(
        tmp_path, monkeypatch, given):
    save(tmp_path / 'epoch_1.pth', 1)
    save(tmp_path / 'epoch_2.pth', 2)
    if given == 'elsewhere.pth':
        save(tmp_path / given, 5)
    load_from = str(tmp_path / given)
    assert resume(tmp_path, monkeypatch, load_from=load_from) == \
        (load_from, [])


# ------------------------------------------------------------ real runners
@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny teacher trained for 2 epochs: (data root, work dir)."""
    root = tmp_path_factory.mktemp('resume_choice')
    data = make_data(str(root / 'data'))
    work_dir = str(root / 'work')
    cfg = tiny_config('teacher', data, work_dir, max_epochs=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        build_runner(cfg).train()
    finally:
        torch.set_num_threads(threads)
    return data, work_dir


def resumed_runner(data, work_dir, max_epochs=3, load_from=None):
    cfg = tiny_config('teacher', data, str(work_dir), max_epochs=max_epochs)
    cfg.resume, cfg.load_from = True, load_from
    return build_runner(cfg)


def log_of(runner) -> str:
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


@pytest.mark.usefixtures('one_thread')
def test_a_moved_work_dir_with_an_empty_last_checkpoint_resumes(
        trained, tmp_path):
    """The original directory is gone and ``last_checkpoint`` was emptied
    by a full disk: MMEngine resumed from ``''``
    (FileNotFoundError)."""
    data, original = trained
    work_dir = tmp_path / 'moved'
    shutil.copytree(original, work_dir)
    (work_dir / 'last_checkpoint').write_text('')
    runner = resumed_runner(data, work_dir)
    runner.train()
    log = log_of(runner)
    assert f'--resume skips {work_dir / "last_checkpoint"}: it is empty' \
        in log
    assert 'resumed epoch: 2' in log
    assert (work_dir / 'last_checkpoint').read_text() == \
        str(work_dir / 'epoch_3.pth')


@pytest.mark.usefixtures('one_thread')
def test_resume_with_an_older_load_from_overwrites_nothing(trained,
                                                           tmp_path):
    data, original = trained
    work_dir = tmp_path / 'work'
    shutil.copytree(original, work_dir)
    before = (work_dir / 'epoch_2.pth').read_bytes()
    runner = resumed_runner(data, work_dir,
                            load_from=str(work_dir / 'epoch_1.pth'))
    with pytest.raises(ResumeError, match=f'holds a newer checkpoint, '
                       f'{work_dir / "epoch_2.pth"}'):
        runner.train()
    assert (work_dir / 'epoch_2.pth').read_bytes() == before
    assert not (work_dir / 'epoch_3.pth').exists()
