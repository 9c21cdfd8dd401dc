"""Which checkpoint ``--resume`` continues from, trusting the work dir's
``last_checkpoint`` only when it is sound.

MMEngine resumes from the file named in ``work_dir/last_checkpoint``: an
empty one (a full disk during its write) makes it resume from ``''``, a
garbled one raises ``UnicodeDecodeError``, one copied with its work dir
resumes from the original directory, and a truncated checkpoint stops the
run with torch's zip-reader error. Here the checkpoint is the newest
complete one of the checkpoint folder (the work dir, or ``CheckpointHook``'s
``out_dir``/<work dir name>); each file passed over is named with the
reason. :class:`~distilpose.runtime.hooks.ResumeFromReadableCheckpointHook`
applies it.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from ..checkpoint import mmengine_checkpoint_globals
from ..fileio import temporary_files

#: The file in which MMEngine names the newest checkpoint of a work dir.
LAST_CHECKPOINT = 'last_checkpoint'
_NUMBERED = re.compile(r'(epoch|iter)_(\d+)\.pth')


class ResumeError(RuntimeError):
    """``--resume`` cannot continue without losing or overwriting work."""


def unreadable_reason(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or None if it is.

    torch writes zip archives: a truncated one has no central directory
    (at the end of the file), a corrupted one fails its CRC check.
    """
    if not osp.isfile(path):
        return 'it does not exist'
    if not zipfile.is_zipfile(path):
        return ('it is truncated or not a checkpoint (no complete zip '
                'archive)')
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        return f'it cannot be read ({err})'
    return f'{bad} inside it is corrupt (CRC error)' if bad else None


def read_last_checkpoint(work_dir: str) -> Tuple[Optional[str],
                                                 Optional[str]]:
    """``(path named, None)``, ``(None, why it is unusable)``, or ``(None,
    None)`` when ``work_dir`` has no ``last_checkpoint``."""
    file = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.lexists(file):
        return None, None
    try:
        with open(file, 'rb') as f:
            raw = f.read(4097)
        text = raw.decode('utf-8').strip()
    except OSError as err:
        return None, f'it cannot be read ({err})'
    except UnicodeDecodeError:
        return None, f'it is not text (starts with {raw[:12]!r})'
    if not text:
        return None, 'it is empty (its write was cut short, e.g. by a ' \
            'full disk)'
    if len(raw) > 4096 or any(c in text for c in '\n\r\x00'):
        return None, 'it does not hold one file path'
    return text, None


def checkpoint_dir(runner) -> Optional[str]:
    """The local folder the runner's ``CheckpointHook`` saves to (as its
    ``before_train`` will set it), or None if it is a remote URI."""
    folder = runner.work_dir
    for hook in getattr(runner, 'hooks', []):
        if isinstance(hook, CheckpointHook) and hook.out_dir is not None:
            folder = osp.join(str(hook.out_dir),
                              osp.basename(runner.work_dir.rstrip(osp.sep)))
    return None if '://' in folder else folder


def _inside(path: str, folder: str) -> bool:
    return osp.realpath(osp.dirname(osp.abspath(path))) == \
        osp.realpath(folder)


def _number(path: str) -> Optional[Tuple[str, int]]:
    match = _NUMBERED.fullmatch(osp.basename(path))
    return (match.group(1), int(match.group(2))) if match else None


def _numbered(folder: str, kind: Optional[str] = None,
              below: Optional[int] = None) -> List[str]:
    """The ``epoch_N.pth`` / ``iter_N.pth`` files of ``folder`` (of
    ``kind``, with N < ``below``), highest N first."""
    found = []
    for name in os.listdir(folder) if osp.isdir(folder) else []:
        number = _number(name)
        if not number or kind not in (None, number[0]):
            continue
        if below is None or number[1] < below:
            found.append((number[1], osp.join(folder, name)))
    return [path for _, path in sorted(found, reverse=True)]


def latest_readable_checkpoint(
        folder: str,
        named: Optional[str] = None) -> Tuple[Optional[str],
                                              List[Tuple[str, str]]]:
    """The first complete checkpoint of the candidates and the (path,
    reason) of each one skipped before it.

    The candidates are ``named`` (the file of ``last_checkpoint``, in
    ``folder``), then the numbered ``epoch_N.pth`` / ``iter_N.pth`` files
    of ``folder`` older than it (all of them when it is not numbered or
    not given), highest N first.
    """
    kind, below = (_number(named) if named else None) or (None, None)
    candidates = ([named] if named else []) + _numbered(folder, kind, below)
    skipped = []
    for path in candidates:
        reason = unreadable_reason(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped


def _named_checkpoint(work_dir: str,
                      folder: str) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``last_checkpoint`` names, as a path in ``folder``
    (None when it names nothing usable), and a note for each problem."""
    file = osp.join(work_dir, LAST_CHECKPOINT)
    named, problem = read_last_checkpoint(work_dir)
    if problem:
        return None, [f'--resume skips {file}: {problem}.']
    if named is None:
        return None, []
    local = osp.join(folder, osp.basename(named))
    if _inside(named, folder):
        return local, []
    if osp.isfile(local):
        return local, [
            f'{file} names {named}, outside {folder} (a work dir copied '
            f'or moved from elsewhere): --resume takes {local}, the file '
            'of that name here.'
        ]
    return None, [f'--resume skips {file}: it names {named}, outside '
                  f'{folder}, and {folder} has no {osp.basename(named)}.']


def choose_resume_checkpoint(work_dir: str,
                             folder: str) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``--resume`` (without a file) continues from, and a
    note for each thing it passed over (``(None, [])``: nothing to resume,
    train from scratch as MMEngine does)."""
    named, notes = _named_checkpoint(work_dir, folder)
    chosen, skipped = latest_readable_checkpoint(folder, named)
    notes += [f'--resume skips {path}: {reason}.' for path, reason in skipped]
    file = osp.join(work_dir, LAST_CHECKPOINT)
    if chosen and not named and not notes:
        notes.append(f'{file} does not exist (MMEngine would train from '
                     'scratch over the checkpoints).')
    if named and chosen == named and _number(named):
        kind, number = _number(named)
        beyond = next((p for p in _numbered(folder, kind)
                       if _number(p)[1] > number
                       and unreadable_reason(p) is None), None)
        if beyond:
            notes.append(
                f'{folder} holds {beyond}, newer than {named} that {file} '
                f'names: --resume follows {file}, and training overwrites '
                f'{beyond} when it gets there. If {beyond} is from this run '
                '(the update of last_checkpoint was cut short), stop and '
                f'run `--resume {beyond}` instead.')
    return chosen, notes


def trained_iterations(path: str) -> Optional[int]:
    """``meta['iter']`` of the checkpoint ``path`` (its tensors are not
    read: memory-mapped), or None if that cannot be read."""
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            checkpoint = torch.load(path, map_location='cpu', mmap=True,
                                    weights_only=True)
        return int(checkpoint['meta']['iter'])
    except Exception:  # noqa: BLE001  (unknown: nothing to compare)
        return None


def check_not_behind(load_from: str, work_dir: str, folder: str) -> None:
    """Refuse to resume from ``load_from`` when ``folder`` holds a newer
    checkpoint (its highest numbered or the one ``last_checkpoint`` names),
    which the run would overwrite with its later epochs."""
    given = trained_iterations(load_from) if osp.isfile(load_from) else None
    if given is None:
        return  # nothing to compare; MMEngine's loader names any problem
    others = {latest_readable_checkpoint(folder)[0],
              _named_checkpoint(work_dir, folder)[0]}
    ahead, newest = max(
        ((trained_iterations(path) or -1, path) for path in others
         if path and osp.isfile(path) and not osp.samefile(path, load_from)),
        default=(-1, None))
    if ahead <= given:
        return
    raise ResumeError(
        f'resume=True with load_from={load_from} (`--resume FILE`, or '
        'load_from in the config or --cfg-options) would continue from '
        f'iteration {given}, but {folder} holds a newer checkpoint, '
        f'{newest} (iteration {ahead}), which this run would overwrite '
        f'with its later epochs. To continue from {newest}: `--resume '
        f'{newest}`. To restart from {load_from}: use another --work-dir '
        f'(or move the later checkpoints out of {folder} first).')


def remove_interrupted_writes(folder: str) -> List[str]:
    """Remove the temporary checkpoint files that a kill during a write
    left in ``folder``, with a warning naming each; returns them."""
    stale = temporary_files(folder)
    for path in stale:
        os.remove(path)
        print_log(f'Removed {path}: a checkpoint write that was killed '
                  'left it (the checkpoint it was to become never '
                  'replaced the previous one).', logger='current',
                  level=logging.WARNING)
    return stale
