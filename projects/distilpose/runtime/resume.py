"""``--resume`` from the newest checkpoint that can be read.

MMEngine resumes from the file named in ``work_dir/last_checkpoint``. When
that file is truncated (a kill, a full disk or a copy cut short) the run
stops with torch's zip-reader error and cannot continue until someone
edits ``last_checkpoint`` by hand. :class:`ResumeFromReadableCheckpointHook`
(in ``configs/_base_/default_runtime.py``) picks the newest complete
``epoch_N.pth`` / ``iter_N.pth`` instead and warns about each file it
skips. It also removes, with a warning, the temporary files that a kill
during a checkpoint write left in ``work_dir``.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

from ..fileio import temporary_files

_NUMBERED = re.compile(r'(?:epoch|iter)_(\d+)\.pth$')


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


def latest_readable_checkpoint(
        work_dir: str) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """The newest complete checkpoint of ``work_dir`` and the (path,
    reason) of each newer one that was skipped.

    The candidates are the file named in ``last_checkpoint``, then the
    numbered ``epoch_N.pth`` / ``iter_N.pth`` files, highest N first.
    """
    named = find_latest_checkpoint(work_dir)
    numbered = sorted(
        (f for f in os.listdir(work_dir) if _NUMBERED.fullmatch(f)),
        key=lambda f: int(_NUMBERED.fullmatch(f).group(1)), reverse=True)
    candidates = [named] if named else []
    candidates += [osp.join(work_dir, f) for f in numbered]
    skipped, seen = [], set()
    for path in candidates:
        if osp.abspath(path) in seen:
            continue
        seen.add(osp.abspath(path))
        reason = unreadable_reason(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped


def remove_interrupted_writes(work_dir: str) -> List[str]:
    """Remove the temporary checkpoint files that a kill during a write
    left in ``work_dir``, with a warning naming each; returns them."""
    stale = temporary_files(work_dir)
    for path in stale:
        os.remove(path)
        print_log(f'Removed {path}: a checkpoint write that was killed '
                  'left it (the checkpoint it was to become never '
                  'replaced the previous one).', logger='current',
                  level=logging.WARNING)
    return stale
