"""Training writes whole files or none, never through a symbolic link, and
never removes a checkpoint before its successor is saved: a full disk or
a Ctrl-C during a save ends with a message naming the checkpoint, and the
checkpoints saved before it stay as they were."""
import errno
import os
import os.path as osp

import mmengine.config.config as mmengine_config
import pytest
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, checkpoints, make_data, tiny_config
from mmengine.config import Config
from mmengine.fileio.backends import LocalBackend
from mmpose.evaluation.metrics import CocoMetric

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose import fileio
from distilpose.checkpoint import safe_torch_load

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp('saving') / 'data'))


def runner_for(data, work_dir, max_epochs=2, **checkpoint):
    """A tiny teacher runner; ``checkpoint`` updates its CheckpointHook
    (with ``save_best``, it validates every epoch)."""
    cfg = tiny_config('teacher', data, str(work_dir), max_epochs=max_epochs)
    cfg.default_hooks.checkpoint.update(checkpoint)
    if checkpoint.get('save_best'):
        cfg.train_cfg.val_interval = 1
    return build_runner(cfg)


def rising_ap(monkeypatch) -> None:
    """Each validation scores a better coco/AP than the one before (and
    skips COCO's evaluation)."""
    scores = iter(range(1, 100))
    monkeypatch.setattr(CocoMetric, 'compute_metrics',
                        lambda self, results: {'AP': next(scores) / 100})


def log_of(runner) -> str:
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


class _FullDisk:
    """A file whose ``write`` stores half the bytes, then fails as a full
    disk does."""

    def __init__(self, file):
        self.file = file

    def write(self, data):
        self.file.write(data[:len(data) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __getattr__(self, name):
        return getattr(self.file, name)


def fill_the_disk(monkeypatch, name: str) -> None:
    """From now on, the writes of :func:`distilpose.fileio.atomic_write`
    to a file called ``name`` fail with ENOSPC."""
    real_open = open

    def opener(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        is_temporary = fileio.TEMPORARY.fullmatch(osp.basename(file))
        if is_temporary and is_temporary.group(1) == name:
            return _FullDisk(f)
        return f

    monkeypatch.setattr(fileio, 'open', opener, raising=False)


def interrupt_while_saving(monkeypatch, runner, epoch: int) -> None:
    """Ctrl-C while the checkpoint of ``epoch`` (1-based) formats the
    config (yapf), where MMEngine's bare ``except`` caught it."""
    real = mmengine_config.FormatCode

    def format_code(*args, **kwargs):
        if runner.epoch + 1 == epoch:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', format_code)


# ----------------------------------------------------------------- full disk
def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path,
                                                       monkeypatch):
    path = tmp_path / 'model.pth'
    fileio.atomic_write(b'old', str(path))
    fill_the_disk(monkeypatch, 'model.pth')
    with pytest.raises(OSError) as err:
        fileio.atomic_write(b'new bytes', str(path))
    assert err.value.errno == errno.ENOSPC
    message = str(err.value)
    assert f'No space left on device to write {path} (9 B, ' in message
    assert f' free in {tmp_path})' in message
    assert 'Free space on that disk, or write to another one' in message
    assert os.listdir(tmp_path) == ['model.pth']  # no temporary file
    assert path.read_bytes() == b'old'


def test_a_full_disk_during_a_save_keeps_the_previous_checkpoints(
        data, tmp_path, monkeypatch):
    """``max_keep_ckpts=1``: MMEngine removed ``epoch_1.pth`` before it
    saved ``epoch_2.pth``, so a failed save left no checkpoint at all."""
    runner = runner_for(data, tmp_path, max_keep_ckpts=1)
    fill_the_disk(monkeypatch, 'epoch_2.pth')
    with pytest.raises(OSError) as err:
        runner.train()
    message = str(err.value)
    assert message.startswith('[Errno 28] No space left on device to '
                              f'write {tmp_path}/epoch_2.pth (')
    assert message.endswith(
        'Training stopped at this checkpoint; with room again, `--resume` '
        'continues from the last checkpoint saved.')
    assert checkpoints(tmp_path) == ['epoch_1.pth']
    assert safe_torch_load(str(tmp_path / 'epoch_1.pth'))['meta']['epoch'] \
        == 1
    assert (tmp_path / 'last_checkpoint').read_text() == \
        str(tmp_path / 'epoch_1.pth')
    assert not fileio.temporary_files(str(tmp_path))


def test_a_full_disk_while_last_checkpoint_is_written_keeps_it_whole(
        data, tmp_path, monkeypatch):
    """MMEngine left an empty ``last_checkpoint``; now it still names the
    previous checkpoint, and the error names it."""
    runner = runner_for(data, tmp_path)
    real_save = runner.save_checkpoint

    def save_then_fill(*args, **kwargs):
        real_save(*args, **kwargs)
        if runner.epoch == 1:
            fill_the_disk(monkeypatch, 'last_checkpoint')

    monkeypatch.setattr(runner, 'save_checkpoint', save_then_fill)
    with pytest.raises(OSError,
                       match=f'to write {tmp_path}/last_checkpoint'):
        runner.train()
    assert (tmp_path / 'last_checkpoint').read_text() == \
        str(tmp_path / 'epoch_1.pth')
    assert checkpoints(tmp_path) == ['epoch_1.pth', 'epoch_2.pth']


# ---------------------------------------------------------------- interrupts
def test_an_interrupt_while_the_config_is_formatted_stays_an_interrupt(
        monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(mmengine_config, 'FormatCode', interrupted)
    with pytest.raises(KeyboardInterrupt):
        Config(dict(a=1)).pretty_text

    def broken(*args, **kwargs):
        raise ValueError('yapf failed')
    monkeypatch.setattr(mmengine_config, 'FormatCode', broken)
    with pytest.raises(SyntaxError, match='Failed to format the config'):
        Config(dict(a=1)).pretty_text


def test_an_interrupt_during_a_save_keeps_the_previous_checkpoint(
        data, tmp_path, monkeypatch):
    runner = runner_for(data, tmp_path, max_keep_ckpts=1)
    interrupt_while_saving(monkeypatch, runner, epoch=2)
    with pytest.raises(KeyboardInterrupt) as err:
        runner.train()
    assert str(err.value) == (
        f'Interrupted while saving {tmp_path}/epoch_2.pth: it was not '
        'written, and the checkpoints saved before it are unchanged; '
        '`--resume` continues from the last of them.')
    assert 'Failed to format the config' not in repr(err.getrepr())
    assert checkpoints(tmp_path) == ['epoch_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == \
        str(tmp_path / 'epoch_1.pth')


def test_a_failed_best_checkpoint_save_keeps_the_previous_best(
        data, tmp_path, monkeypatch):
    """MMEngine removed the previous best checkpoint before it saved the
    new one; it is removed only once the new one is saved."""
    runner = runner_for(data, tmp_path, save_best='coco/AP')
    rising_ap(monkeypatch)
    fill_the_disk(monkeypatch, 'best_coco_AP_epoch_2.pth')
    with pytest.raises(OSError, match='to write .*best_coco_AP_epoch_2.pth'):
        runner.train()
    assert 'best_coco_AP_epoch_1.pth' in checkpoints(tmp_path)
    assert 'best_coco_AP_epoch_2.pth' not in checkpoints(tmp_path)


def test_the_previous_best_checkpoint_goes_once_the_new_one_is_saved(
        data, tmp_path, monkeypatch):
    runner = runner_for(data, tmp_path, save_best='coco/AP')
    rising_ap(monkeypatch)
    runner.train()
    assert checkpoints(tmp_path) == [
        'best_coco_AP_epoch_2.pth', 'epoch_1.pth', 'epoch_2.pth'
    ]


def test_outdated_checkpoints_are_still_removed(data, tmp_path):
    runner_for(data, tmp_path, max_epochs=3, max_keep_ckpts=2).train()
    assert checkpoints(tmp_path) == ['epoch_2.pth', 'epoch_3.pth']
    ckpt = safe_torch_load(str(tmp_path / 'epoch_3.pth'))
    assert ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] == [2, 3]


# ------------------------------------------------------------------ symlinks
def test_training_replaces_links_in_the_work_dir_and_never_follows_them(
        data, tmp_path):
    """``last_checkpoint``, the config dump and a checkpoint name that are
    symbolic links to files outside the work dir: the links are replaced,
    with a warning each, and the files they point to keep their bytes."""
    outside, work_dir = tmp_path / 'outside', tmp_path / 'work'
    outside.mkdir()
    work_dir.mkdir()
    cfg = tiny_config('teacher', data, str(work_dir), max_epochs=1)
    names = ['last_checkpoint', osp.basename(cfg.filename), 'epoch_1.pth']
    for name in names:
        (outside / name).write_text(f'precious {name}')
        (work_dir / name).symlink_to(outside / name)
    runner = build_runner(cfg)
    runner.train()
    log = log_of(runner)
    for name in names:
        assert (outside / name).read_text() == f'precious {name}'
        assert not (work_dir / name).is_symlink()
        assert (f'{work_dir / name} is a symbolic link (to {outside / name})'
                ': it is replaced by a regular file, and the file it points '
                'to is left unchanged') in log
    assert (work_dir / 'last_checkpoint').read_text() == \
        str(work_dir / 'epoch_1.pth')
    assert safe_torch_load(str(work_dir / 'epoch_1.pth'))['meta']['epoch'] \
        == 1


def test_mmengine_text_writes_replace_a_link_too(tmp_path):
    target, link = tmp_path / 'target.json', tmp_path / 'results.json'
    target.write_text('precious')
    link.symlink_to(target)
    LocalBackend().put_text('{"AP": 0.5}', link)
    assert target.read_text() == 'precious'
    assert not link.is_symlink() and link.read_text() == '{"AP": 0.5}'
