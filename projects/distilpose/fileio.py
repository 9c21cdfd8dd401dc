"""Files written whole or not at all, and their sha256.

Every file the project writes that someone may read while it is written or
after a kill (checkpoints, ONNX exports, pictures, generated annotation
files, shipped model files) goes through :func:`atomic_write`.
"""
import errno
import hashlib
import os
import os.path as osp
import re
import shutil
import uuid
from typing import List

#: The temporary files of :func:`atomic_write`: ``.<name>.<8 hex>.tmp``.
TEMPORARY = re.compile(r'\.(.+)\.[0-9a-f]{8}\.tmp')
#: The errors of a full disk (or a full quota).
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _size(num_bytes: float) -> str:
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if num_bytes < 1024 or unit == 'GiB':
            break
        num_bytes /= 1024
    return f'{num_bytes:.0f} B' if unit == 'B' else f'{num_bytes:.1f} {unit}'


def disk_full_error(err: OSError, path: str, needed: int) -> OSError:
    """``err`` (a full disk) re-worded to name ``path``, the space it
    needed and the space left; the errno is kept."""
    folder = osp.dirname(path)
    try:
        free = f'{_size(shutil.disk_usage(folder).free)} free'
    except OSError:
        free = 'free space unknown'
    return OSError(
        err.errno,
        f'No space left on device to write {path} ({_size(needed)}, '
        f'{free} in {folder}): nothing was written under that name (a '
        'previous file of that name is unchanged). Free space on that '
        'disk, or write to another one, and run again.')


def atomic_write(data: bytes, path: str) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it:
    ``path`` is either its old self or complete, never half-written.

    A symbolic link at ``path`` is replaced by the file, not followed: the
    file it points to is never written. A full disk raises an ``OSError``
    (errno kept) that names ``path`` and the free space.
    """
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    # open(..., 'xb') rather than mkstemp: the file gets the umask's mode
    # (mkstemp's 0o600 would make a shipped file private).
    tmp = osp.join(osp.dirname(path),
                   f'.{osp.basename(path)}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        with open(tmp, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno in DISK_FULL:
            raise disk_full_error(err, path, len(data)) from err
        raise


def temporary_files(folder: str) -> List[str]:
    """The temporary files of :func:`atomic_write` in ``folder``: what a
    kill during a write leaves (an error removes its own)."""
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if TEMPORARY.fullmatch(f) and osp.isfile(osp.join(folder, f)))


def sha256sum(path: str) -> str:
    """The hex sha256 of the file ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()
