"""Checkpoint reading on torch's safe (``weights_only=True``) path.

One loader, :func:`load_checkpoint_file`, for every form a checkpoint is
named in: a local path, an ``http(s)://`` URL (from torch's hub cache, or
downloaded into it), and MMEngine's ``torchvision://``, ``open-mmlab://``
and ``mmcls://`` names. It unpickles with ``weights_only=True`` and allows
exactly the non-tensor types that MMEngine training checkpoints contain
(numpy arrays, scalars and dtypes, ``HistoryBuffer``), only for its own
calls. Files of URLs whose name carries OpenMMLab's hash suffix
(``-<8 hex>.pth``, the start of their sha256) are checked against it
first.

A file that needs more (pickled code) is refused with a message that
names the file and the route, and says how to convert a trusted file once
with ``tools/make_checkpoint_safe.py``; there is no unsafe fallback.

Nothing here changes MMEngine or torch:
:mod:`distilpose.runtime.mmengine_patches` routes
MMEngine's loaders through these functions.
"""
import io
import os
import os.path as osp
import re
import zipfile
from collections import Counter
from typing import Dict, Iterable, Optional

import numpy as np
import torch
from torch import nn

from .download import HASH_SUFFIX, fetch_to_cache
from .fileio import atomic_write, sha256sum

#: A checkpoint that matches fewer than this fraction of a model's keys
#: (same name and shape) is refused when it is loaded into the model.
MIN_KEY_COVERAGE = 0.5

_SCHEMES = ('torchvision://', 'modelzoo://', 'open-mmlab://',
            'openmmlab://', 'mmcls://')
_REMOTE = ('http://', 'https://') + _SCHEMES
_last_read = {'file': None}


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, unsafe or mismatched."""


def mmengine_checkpoint_globals() -> list:
    """The non-tensor types that MMEngine training checkpoints contain."""
    from mmengine.logging import HistoryBuffer
    multiarray = (np._core.multiarray
                  if hasattr(np, '_core') else np.core.multiarray)
    dtypes = [
        np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
        np.float16, np.float32, np.float64
    ]
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
        HistoryBuffer, *(type(np.dtype(t)) for t in dtypes)
    ]


def convert_hint(path: str) -> str:
    return ('If you trust this file and where it came from, convert it '
            'once to a safe one: `python tools/make_checkpoint_safe.py '
            f'{path} <safe.pth>` (the only place that unpickles without '
            'weights_only), then use the converted file.')


def _truncated(path: str) -> bool:
    """A zip archive (torch's format) whose end, with the central
    directory, is missing."""
    with open(path, 'rb') as f:
        starts_as_zip = f.read(4) == b'PK\x03\x04'
    return starts_as_zip and not zipfile.is_zipfile(path)


def _unpickling_problem(path: str, err: Exception) -> str:
    text = str(err)
    code = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
    if code:
        return ('it holds pickled objects other than tensors, containers '
                "and MMEngine's training state (here "
                f'{code.group(1)}): loading it could run code, so it is '
                f'refused. {convert_hint(path)}')
    if _truncated(path) or isinstance(err, EOFError):
        return ('it is truncated or corrupt (an interrupted write or '
                'download). Use an earlier checkpoint, or delete the file '
                'and download or save it again.')
    first = text.strip().splitlines()[0] if text.strip() else ''
    return (f'it is not a PyTorch checkpoint ({type(err).__name__}: '
            f'{first[:200]}).')


def save_checkpoint_atomically(obj, path: str) -> None:
    """``torch.save(obj, path)`` that never leaves a half-written file at
    ``path`` (:func:`~distilpose.fileio.atomic_write`)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), path)


def safe_torch_load(path: str, route: str = 'checkpoint',
                    map_location='cpu'):
    """``torch.load(path, weights_only=True)`` allowing MMEngine's
    checkpoint types, with errors that name ``path`` and ``route``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{route}: checkpoint not found: {path}')
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            checkpoint = torch.load(
                path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001  (torch raises many kinds)
        raise CheckpointError(
            f'Cannot load {path} ({route}) with weights_only=True: '
            f'{_unpickling_problem(path, err)}') from err
    _last_read['file'] = path
    return checkpoint


def check_hash(path: str, name: Optional[str] = None) -> None:
    """Check ``path`` against the sha256 prefix in ``name`` (default: its
    own file name), as ``torch.hub``'s ``check_hash`` does; no-op for a
    name without one."""
    match = HASH_SUFFIX.search(osp.basename(name or path))
    if not match:
        return
    digest = sha256sum(path)
    if not digest.startswith(match.group(1)):
        raise CheckpointError(
            f'{path} does not match the hash in its name ({match.group(1)}, '
            f'the start of its sha256; the file has '
            f'{digest[:len(match.group(1))]}): it is corrupt or '
            'not the published file. Delete it and download it again.')


def resolve_scheme(filename: str) -> str:
    """The URL (or MMEngine-home file) that a ``torchvision://``,
    ``open-mmlab://`` or ``mmcls://`` name stands for, as MMEngine maps
    it."""
    from mmengine.runner import checkpoint as mmengine_ckpt
    scheme, name = filename.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        table = mmengine_ckpt.get_torchvision_models()
    elif scheme == 'mmcls':
        table = mmengine_ckpt.get_mmcls_models()
    else:
        table = mmengine_ckpt.get_external_models()
        name = mmengine_ckpt.get_deprecated_model_names().get(name, name)
    if name not in table:
        raise CheckpointError(f'{filename}: no model named {name!r} in '
                              f"MMEngine's {scheme}:// table.")
    url = table[name]
    if url.startswith(('http://', 'https://')):
        return url
    return osp.join(mmengine_ckpt._get_mmengine_home(), url)


def local_file(filename: str, model_dir: Optional[str] = None) -> str:
    """The local file of ``filename``: the path itself, or for a URL or
    scheme name the file in torch's hub cache (or ``model_dir``),
    downloaded there first if missing, on rank 0 before the others."""
    filename = os.fspath(filename)
    if filename.startswith(_SCHEMES):
        filename = resolve_scheme(filename)
    if not filename.startswith(('http://', 'https://')):
        return osp.expanduser(filename)
    from mmengine.dist import barrier, get_dist_info
    rank, world_size = get_dist_info()
    path = fetch_to_cache(filename, model_dir) if rank == 0 else None
    if world_size > 1:
        barrier()
        path = path or fetch_to_cache(filename, model_dir)
    return path


def load_checkpoint_file(filename: str, map_location='cpu',
                         route: str = 'checkpoint',
                         model_dir: Optional[str] = None):
    """Read a checkpoint named by a path, URL or scheme, safely.

    Raises:
        FileNotFoundError: no such local file.
        CheckpointError: unreadable, unsafe, or not matching its hash.
        NoNetworkError: a URL not in the hub cache and no network.
    """
    path = local_file(filename, model_dir)
    if os.fspath(filename).startswith(_REMOTE):
        check_hash(path)  # local file names are the user's own
    return safe_torch_load(path, route, map_location)


def last_read_file() -> Optional[str]:
    """The file :func:`safe_torch_load` read last (for messages)."""
    return _last_read['file']


def read_state_dict(path: str, role: str = 'model') -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint (``state_dict`` entry or the whole
    dict), with a DDP ``module.`` prefix removed. ``path`` may be a URL or
    a scheme name (see :func:`load_checkpoint_file`).

    ``role`` only words the error messages (e.g. ``'teacher'``).
    """
    if path is None:
        raise ValueError(
            f'No {role} checkpoint given. Set it in the config or with '
            f'--cfg-options model.{role}_ckpt=<path>.')
    try:
        ckpt = load_checkpoint_file(path, route=f'{role} checkpoint')
    except FileNotFoundError:
        raise FileNotFoundError(
            f'The {role} checkpoint {path} does not exist. Train the '
            f'{role} with its config, or convert an official checkpoint '
            'with `python tools/convert_official.py SRC DST`, then pass '
            f'its path (e.g. --cfg-options model.{role}_ckpt=<path>).'
        ) from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f'{path} holds no state dict of tensors.')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def _some(keys: Iterable[str], n: int = 8) -> str:
    keys = sorted(keys)
    more = f' ... (+{len(keys) - n} more)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def key_prefixes(keys: Iterable[str], depth: int = 2, n: int = 6) -> str:
    """'backbone.stage2 (40), head.fc (2)': the most common prefixes."""
    counts = Counter('.'.join(k.split('.')[:depth]) for k in keys)
    shown = [f'{p} ({c})' for p, c in counts.most_common(n)]
    if len(counts) > n:
        shown.append(f'... (+{len(counts) - n} more prefixes)')
    return ', '.join(shown)


def check_key_coverage(model: nn.Module, state: dict, source: str,
                       min_coverage: float = MIN_KEY_COVERAGE) -> None:
    """Refuse ``state`` if it matches (same name and shape) fewer than
    ``min_coverage`` of ``model``'s keys: a checkpoint of another model
    would otherwise leave random weights with only a warning."""
    own = {k: v for k, v in model.state_dict().items()
           if not k.endswith('num_batches_tracked')}
    matched = [
        k for k in own
        if k in state and getattr(state[k], 'shape', None) == own[k].shape
    ]
    if not own or len(matched) >= min_coverage * len(own):
        return
    # In the model's and the file's order: a set's order follows the
    # per-process string hash, and ``key_prefixes`` keeps the first of ties.
    matched = set(matched)
    missing = [k for k in own if k not in matched]
    unexpected = [k for k in state if k not in own]
    raise CheckpointError(
        f'{source} matches {len(matched)} of the {len(own)} keys of '
        f'{type(model).__name__} (at least {min_coverage:.0%} are needed, '
        'else its weights would stay random): it is the checkpoint of '
        'another model.\n'
        f'  missing ({len(missing)}): {key_prefixes(missing)}\n'
        f'  unexpected ({len(unexpected)}): '
        f'{key_prefixes(unexpected) or "none"}\n'
        '  Use the checkpoint trained with this config; an official '
        'DistilPose/TokenPose file needs `python tools/convert_official.py '
        'SRC DST` first.')


def load_state_dict_strictly(model: nn.Module, state: Dict[str, torch.Tensor],
                             source: str) -> None:
    """``model.load_state_dict(state, strict=True)`` with an error that
    names missing, unexpected and mis-shaped keys."""
    own = model.state_dict()
    missing = own.keys() - state.keys()
    unexpected = state.keys() - own.keys()
    mis_shaped = [
        f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
        for k in own.keys() & state.keys() if state[k].shape != own[k].shape
    ]
    if missing or unexpected or mis_shaped:
        lines = [f'{source} does not match {type(model).__name__}:']
        if missing:
            lines.append(f'  missing keys ({len(missing)}): {_some(missing)}')
        if unexpected:
            lines.append(f'  unexpected keys ({len(unexpected)}): '
                         f'{_some(unexpected)}')
        if mis_shaped:
            lines.append(f'  shape mismatches ({len(mis_shaped)}): '
                         f'{_some(mis_shaped, 4)}')
        if any(k.startswith('keypoint_head.') for k in unexpected):
            lines.append('  This looks like an official DistilPose/TokenPose '
                         'checkpoint: convert it first with '
                         '`python tools/convert_official.py SRC DST`.')
        else:
            lines.append('  Check that the checkpoint was trained with this '
                         'config (same backbone, keypoints and sizes).')
        raise ValueError('\n'.join(lines))
    model.load_state_dict(state, strict=True)
