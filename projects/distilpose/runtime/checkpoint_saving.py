"""How training writes its files (checkpoints, ``last_checkpoint``, the
config dump): whole or not at all, never through a symbolic link, never
removing a checkpoint before its successor is saved.

MMEngine 0.10 writes ``epoch_N.pth``, ``work_dir/last_checkpoint`` and
``work_dir/<config name>.py`` in place: a kill or a full disk leaves a
truncated or empty file, and a symbolic link at one of those names gets
the file it points to overwritten. It removes the outdated checkpoint
(``max_keep_ckpts``) and the previous best one before it saves the new
one, so a failed save loses them. A full disk raises ``[Errno 28]``
naming no file, and a Ctrl-C while the config is formatted for the
checkpoint becomes a ``SyntaxError`` that prints the whole config.
:func:`replacements` gives the changes; :mod:`.mmengine_patches` applies
them to the MMEngine versions it names.
"""
import functools
import logging
import os
import os.path as osp

from mmengine.config import Config
from mmengine.dist import is_main_process, master_only
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import Runner

from ..fileio import DISK_FULL, atomic_write
from .resume import LAST_CHECKPOINT


def replace_file(data: bytes, path: str) -> None:
    """:func:`~distilpose.fileio.atomic_write` ``data`` to ``path``, with a
    warning when ``path`` is a symbolic link: the link is replaced by the
    file, and the file it points to is left unchanged."""
    if osp.islink(path):
        print_log(
            f'{path} is a symbolic link (to {os.readlink(path)}): it is '
            'replaced by a regular file, and the file it points to is left '
            'unchanged (training never writes through a link).',
            logger='current', level=logging.WARNING)
    atomic_write(data, path)


def _history_buffer_state(buffer) -> dict:
    # HistoryBuffer pickles its statistics functions as getattr() calls,
    # which weights_only=True refuses: --resume failed on torch >= 2.6.
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def _put(self, obj: bytes, filepath) -> None:
    replace_file(obj, str(filepath))


def _put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
    replace_file(obj.encode(encoding), str(filepath))


def _remove_checkpoint(hook, path: str) -> None:
    if hook.file_backend.isfile(path):
        hook.file_backend.remove(path)
    elif hook.file_backend.isdir(path):  # DeepSpeed saves folders
        hook.file_backend.rmtree(path)


def _save_checkpoint_with_step(self, runner, step, meta) -> None:
    """MMEngine 0.10's ``CheckpointHook._save_checkpoint_with_step`` with
    the outdated checkpoint removed after the new one is saved, not before,
    and ``last_checkpoint`` replaced whole (:func:`replace_file`)."""
    outdated = None
    if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        # Before the save, as MMEngine does: the list goes into it.
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
    ckpt_filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(
        self.out_dir, ckpt_filename, self.file_client_args,
        save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler, meta=meta,
        by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    replace_file(self.last_ckpt.encode('utf-8'),
                 osp.join(runner.work_dir, LAST_CHECKPOINT))
    if outdated is not None:
        _remove_checkpoint(self, self.file_backend.join_path(
            self.out_dir, self.filename_tmpl.format(outdated)))


class _RemovalsAfterSaving:
    """A ``CheckpointHook``'s file backend whose ``remove`` waits until
    the save in progress has succeeded."""

    def __init__(self, backend):
        self.backend, self.waiting = backend, []

    def remove(self, path) -> None:
        self.waiting.append(path)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def _previous_best_removed_after_saving(original):
    """``CheckpointHook._save_best_checkpoint`` that removes the previous
    best checkpoint only once the new best one is saved."""

    @functools.wraps(original)
    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend = self.file_backend
        self.file_backend = _RemovalsAfterSaving(backend)
        try:
            original(self, runner, metrics)
        finally:
            waiting, self.file_backend = self.file_backend.waiting, backend
        current = {self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in waiting:
            if path not in current and backend.isfile(path):
                backend.remove(path)

    return _save_best_checkpoint


def _save_naming_the_failure(original):
    """``Runner.save_checkpoint`` whose full-disk error names the
    checkpoint and the way on, and whose interrupt says what was kept."""

    @functools.wraps(original)
    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        path = osp.join(out_dir, filename)
        try:
            return original(self, out_dir, filename, *args, **kwargs)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(
                f'Interrupted while saving {path}: it was not written, and '
                'the checkpoints saved before it are unchanged; `--resume` '
                'continues from the last of them.') from None
        except OSError as err:
            if err.errno not in DISK_FULL:
                raise
            text = str(err.strerror)
            if osp.basename(path) not in text:  # not atomic_write's own
                text = f'{text}: cannot save {path}.'
            raise OSError(
                err.errno, f'{text} Training stopped at this checkpoint; '
                'with room again, `--resume` continues from the last '
                'checkpoint saved.') from err

    return save_checkpoint


@master_only
def _dump_config(self) -> None:
    """``Runner.dump_config`` through :func:`replace_file`; ``Config.dump``
    gives the same text as MMEngine writes (the format of the config
    file's extension)."""
    name = (osp.basename(self.cfg.filename) if self.cfg.filename is not None
            else f'{self.timestamp}.py')
    replace_file(self.cfg.dump().encode('utf-8'),
                 osp.join(self.work_dir, name))


def _interrupt_kept(pretty_text: property) -> property:
    """``Config.pretty_text`` whose interrupt stays a KeyboardInterrupt:
    MMEngine's bare ``except`` around yapf turns it into a SyntaxError
    that prints the whole config (at every checkpoint save)."""

    def text(self) -> str:
        try:
            return pretty_text.fget(self)
        except SyntaxError as err:
            if isinstance(err.__context__, KeyboardInterrupt):
                raise err.__context__ from None
            raise

    return property(text, doc=pretty_text.__doc__)


def replacements() -> list:
    """``(owner, attribute, new value)`` of each change, made from the
    attributes as they are now (apply each once)."""
    return [
        (HistoryBuffer, '__getstate__', _history_buffer_state),
        (LocalBackend, 'put', _put),
        (LocalBackend, 'put_text', _put_text),
        (CheckpointHook, '_save_checkpoint_with_step',
         _save_checkpoint_with_step),
        (CheckpointHook, '_save_best_checkpoint',
         _previous_best_removed_after_saving(
             CheckpointHook._save_best_checkpoint)),
        (Runner, 'save_checkpoint',
         _save_naming_the_failure(Runner.save_checkpoint)),
        (Runner, 'dump_config', _dump_config),
        (Config, 'pretty_text', _interrupt_kept(Config.pretty_text)),
    ]
