"""Checkpoint reading on torch's safe (``weights_only=True``) path, with
the checks that every model file gets wherever it is loaded.

One loader, :func:`load_checkpoint_file`, for every form a checkpoint is
named in: a local path, an ``http(s)://`` URL (from torch's hub cache, or
downloaded into it), and MMEngine's ``torchvision://``, ``open-mmlab://``
and ``mmcls://`` names. Before unpickling, a file the model zoo lists
(:mod:`distilpose.model_index`) is checked against its metafile's
sha256, and the file of a URL whose name carries OpenMMLab's hash suffix
(``-<8 hex>.pth``, the start of its sha256) against that. It unpickles
with ``weights_only=True``, allowing exactly the non-tensor types that
MMEngine training checkpoints contain (numpy arrays, scalars and dtypes,
``HistoryBuffer``), only for its own calls; a file that needs more
(pickled code) is refused with a message that names the globals, the file
and the route, and how to convert a trusted file once with
``tools/make_checkpoint_safe.py``; there is no unsafe fallback. Weights
holding NaN, inf or magnitudes no trained model has (what a damaged byte
makes of a float) are refused, naming the tensors. The state dict it
returns names its file (:class:`StateDictMetadata`), so that errors
raised far from here (MMEngine's ``load_state_dict``) can name it too.

Nothing here changes MMEngine or torch:
:mod:`distilpose.runtime.mmengine_patches` routes
MMEngine's loaders through these functions.
"""
import io
import os
import os.path as osp
import re
import zipfile
from collections import Counter, OrderedDict
from typing import Dict, Iterable, Optional

import numpy as np
import torch
from torch import nn

from .download import HASH_SUFFIX, fetch_to_cache
from .fileio import atomic_write, sha256sum
from .model_index import file_sha256, zoo_entry
from .weight_check import MAX_ABS_WEIGHT, damaged_weights

#: A checkpoint that matches fewer than this fraction of a model's keys
#: (same name and shape) is refused when it is loaded into the model.
MIN_KEY_COVERAGE = 0.5
_SCHEMES = ('torchvision://', 'modelzoo://', 'open-mmlab://',
            'openmmlab://', 'mmcls://')
_REMOTE = ('http://', 'https://') + _SCHEMES
# Sentences of torch's unpickling errors that advise switching safety off.
_TORCH_ADVICE = re.compile(
    r'weights_only|safe_globals|trust|documentation of torch\.load', re.I)


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, unsafe or mismatched."""


def _multiarray():
    return np._core.multiarray if hasattr(np, '_core') else np.core.multiarray


def mmengine_checkpoint_globals() -> list:
    """The non-tensor types that MMEngine training checkpoints contain."""
    from mmengine.logging import HistoryBuffer
    multiarray = _multiarray()
    dtypes = [
        np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
        np.float16, np.float32, np.float64
    ]
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
        HistoryBuffer, *(type(np.dtype(t)) for t in dtypes)
    ]


def conversion_globals() -> list:
    """What ``tools/make_checkpoint_safe.py`` unpickles without running
    any code of the file: MMEngine's types, and the others that real
    checkpoints hold (numpy values pickled by numpy 1.x, a training
    script's ``argparse.Namespace``, containers of ``collections`` and
    builtins). Each is a plain type or numpy's own rebuild function; none
    calls anything that the file names."""
    import argparse
    multiarray = _multiarray()
    dtypes = [np.uint16, np.uint32, np.uint64, np.complex64, np.complex128]
    return [
        *mmengine_checkpoint_globals(),
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
        *(type(np.dtype(t)) for t in dtypes), argparse.Namespace,
        dict, list, tuple, set, frozenset, slice, str, bytes, int, float,
        bool
    ]


def _global_name(entry) -> str:
    if isinstance(entry, tuple):
        return entry[1]
    return f'{entry.__module__}.{entry.__qualname__}'


def convert_hint(path: str, names: Iterable[str] = ()) -> str:
    """How to convert ``path`` once into a file that loads safely, given
    the globals ``names`` its pickle needs (none: another object the safe
    unpickler cannot rebuild)."""
    convertible = {_global_name(g) for g in conversion_globals()}
    names = list(names)
    code = [n for n in names if n not in convertible]
    command = f'python tools/make_checkpoint_safe.py {path} <safe.pth>'
    if names and not code:
        return ('Convert it once to a safe one (this unpickles only '
                f'checkpoint types and runs none of its code): `{command}`, '
                'then use the converted file.')
    return ('Only if you trust this file and where it came from, convert '
            f'it once: `{command} --allow-code-execution` (that unpickles it '
            'without restrictions, running any code it carries), then use '
            'the converted file.')


def _truncated(path: str) -> bool:
    """A zip archive (torch's format) whose end, with the central
    directory, is missing."""
    with open(path, 'rb') as f:
        starts_as_zip = f.read(4) == b'PK\x03\x04'
    return starts_as_zip and not zipfile.is_zipfile(path)


def refused_globals(path: str, err: Optional[Exception] = None) -> list:
    """The pickled globals (``module.name``) of ``path`` that torch's safe
    unpickler refuses under the safe globals in force: torch's listing of
    the file's pickle where it has one (torch >= 2.5, zip format), else
    the names in ``err``'s text (whose wording changes between torch
    versions)."""
    names = []
    listing = getattr(torch.serialization,
                      'get_unsafe_globals_in_checkpoint', None)
    if listing is not None:
        try:
            names = list(listing(path))
        except Exception:  # noqa: BLE001  (not a zip checkpoint: use err)
            names = []
    if not names and err is not None:
        names = re.findall(r'GLOBAL ([\w.]+)', str(err))
    return sorted(set(names))


def torch_reason(err: Exception) -> str:
    """``err`` in a line, without torch's advice to unpickle unsafely."""
    text = re.sub(r'\x1b\[[0-9;]*m', '', str(err))
    detail = re.search(r'WeightsUnpickler error:(.*)', text, re.S)
    lines = (detail.group(1) if detail else text).splitlines()
    sentences = [s.strip() for line in lines
                 for s in re.split(r'(?<=\.)\s+', line) if s.strip()]
    kept = [s for s in sentences
            if not _TORCH_ADVICE.search(s) and
            not s.startswith('Weights only load failed')]
    return f'{type(err).__name__}: {(kept or ["unreadable"])[0][:200]}'


def unpickling_problem(path: str, err: Exception) -> str:
    """Why torch's safe unpickler failed on ``path`` with ``err``, and
    what to do."""
    names = refused_globals(path, err)
    if names:
        shown = ', '.join(names[:6]) + (
            f' and {len(names) - 6} more' if len(names) > 6 else '')
        return ('it holds pickled objects other than tensors, containers '
                f"and MMEngine's training state (here {shown}): loading it "
                f'could run code, so it is refused. '
                f'{convert_hint(path, names)}')
    if _truncated(path) or isinstance(err, EOFError):
        return ('it is truncated or corrupt (an interrupted write or '
                'download). Use an earlier checkpoint, or delete the file '
                'and download or save it again.')
    if re.search(r'WeightsUnpickler error:\s*Can only ', str(err)):
        return ("torch's safe unpickler cannot rebuild an object in it "
                f'({torch_reason(err)}). {convert_hint(path)}')
    return f'it is not a PyTorch checkpoint ({torch_reason(err)}).'


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
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=True)
        except Exception as err:  # noqa: BLE001  (torch raises many kinds)
            raise CheckpointError(
                f'Cannot load {path} ({route}) with weights_only=True: '
                f'{unpickling_problem(path, err)}') from err


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


def check_zoo_hash(path: str, name: Optional[str] = None) -> None:
    """Refuse ``path`` if the model zoo lists it (by its path, or by the
    URL ``name`` it was read from) with another sha256."""
    entry = zoo_entry(path, name)
    if entry is None:
        return
    actual = file_sha256(path)
    if actual == entry['sha256']:
        return
    if entry['weights'].startswith(('http://', 'https://')):
        fix = f'Delete it and download it again from {entry["weights"]}'
    else:
        fix = (f'Restore it (`git checkout -- {entry["weights"]}` for a '
               'shipped file) or re-create it with the Training Command of '
               'the metafile, and write its new sha256 there')
    raise CheckpointError(
        f'{path} is the model-zoo file {entry["name"]}, whose sha256 in '
        f'{entry["metafile"]} is {entry["sha256"]}, but the file has sha256 '
        f'{actual}: it was changed or damaged. {fix}.')


def check_finite_weights(checkpoint, path: str,
                         route: str = 'checkpoint') -> None:
    """Refuse weights with NaN, inf or magnitudes above
    :data:`MAX_ABS_WEIGHT`, naming the tensors: a damaged byte in a file
    loads silently and makes every prediction NaN."""
    damaged, total = damaged_weights(checkpoint)
    if not damaged:
        return
    shown = '; '.join(f'{k} ({v})' for k, v in list(damaged.items())[:5])
    more = f'; ... (+{len(damaged) - 5} more)' if len(damaged) > 5 else ''
    raise CheckpointError(
        f'Cannot use {path} ({route}): {len(damaged)} of its '
        f'{total} weight tensors hold values no trained model has '
        f'(NaN, inf or a magnitude above {MAX_ABS_WEIGHT:.0e}, what a '
        f'damaged byte makes of a float): {shown}{more}. The file is '
        'damaged (a bad copy, download or disk) or was saved from a run '
        'that diverged: use an intact copy (download it again, restore '
        'it, or for a model-zoo file re-create it with its metafile\'s '
        'Training Command) or an earlier checkpoint.')


class StateDictMetadata(OrderedDict):
    """A state dict's ``_metadata`` (torch's per-module versions) that
    also names the file the state dict was read from, ``source``.

    MMEngine carries a state dict's ``_metadata`` over when it renames the
    keys (``revise_keys``), so the file's name reaches the key-coverage
    check in its ``load_state_dict`` with the state dict itself, on every
    route. It pickles as the plain OrderedDict it stands for: a state dict
    saved again never records a path."""

    def __init__(self, versions=(), source: Optional[str] = None):
        super().__init__(versions)
        self.source = source

    def __reduce__(self):
        return OrderedDict, (), None, None, iter(self.items())


def with_source(state: dict, source: str) -> OrderedDict:
    """``state`` (as an OrderedDict, in place if it is one) marked as read
    from ``source`` (see :func:`source_of`)."""
    if not isinstance(state, OrderedDict):
        state = OrderedDict(state)
    state._metadata = StateDictMetadata(
        getattr(state, '_metadata', None) or (), source=source)
    return state


def source_of(state: dict) -> Optional[str]:
    """The file ``state`` was read from (:func:`with_source`), or None."""
    return getattr(getattr(state, '_metadata', None), 'source', None)


def load_checkpoint_file(filename: str, map_location='cpu',
                         route: str = 'checkpoint',
                         model_dir: Optional[str] = None):
    """Read a checkpoint named by a path, URL or scheme, safely and
    checked; its state dict names the file (:func:`source_of`).

    Raises:
        FileNotFoundError: no such local file.
        CheckpointError: unreadable, unsafe, not matching its hash or its
            model-zoo sha256, or with non-finite weights.
        NoNetworkError: a URL not in the hub cache and no network.
    """
    filename = os.fspath(filename)
    path = local_file(filename, model_dir)
    url = None
    if filename.startswith(_REMOTE):
        check_hash(path)  # local file names are the user's own
        url = resolve_scheme(filename) if filename.startswith(_SCHEMES) \
            else filename
    check_zoo_hash(path, url)
    checkpoint = safe_torch_load(path, route, map_location)
    check_finite_weights(checkpoint, path, route)
    if isinstance(checkpoint, dict):
        if isinstance(checkpoint.get('state_dict'), dict):
            checkpoint['state_dict'] = with_source(checkpoint['state_dict'],
                                                   path)
        else:
            checkpoint = with_source(checkpoint, path)
    return checkpoint


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
