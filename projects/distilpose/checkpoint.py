"""Checkpoint loading that stays on torch's safe (``weights_only``) path.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and MMEngine
0.10 calls plain ``torch.load``. Training checkpoints written by MMEngine
hold numpy arrays and scalars (dataset metainfo, message-hub values) and
``HistoryBuffer`` objects, which the safe unpickler refuses, so
``--resume`` fails with "Unsupported global". Importing ``distilpose``
(:func:`enable_safe_mmengine_checkpoints`):

- allow-lists exactly those numpy types and ``HistoryBuffer``;
- makes ``HistoryBuffer`` pickle without its class-level registry of
  statistics functions, which MMEngine otherwise stores as
  ``getattr(HistoryBuffer, 'min')`` calls: allowing ``getattr`` would open
  the safe unpickler far wider than these checkpoints need. The registry is
  code, restored from the class on load.

Safe loading stays on for everything else: pickles that carry code are
still refused.
"""
import os.path as osp
from typing import Dict, Iterable

import numpy as np
import torch
from torch import nn


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


def _history_buffer_state(buffer) -> dict:
    """``HistoryBuffer.__getstate__`` without the statistics registry."""
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def enable_safe_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read MMEngine checkpoints."""
    from mmengine.logging import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_state
    if hasattr(torch.serialization, 'add_safe_globals'):  # torch >= 2.4
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


def safe_load(path: str) -> dict:
    """``torch.load`` on the CPU with ``weights_only=True``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file is not a checkpoint, or it needs code to load
            (pickled objects other than tensors and plain containers).
    """
    if '://' in str(path):
        raise ValueError(
            f'{path} is a URL: checkpoints are read from local files only '
            '(nothing is downloaded at run time). Download it yourself and '
            'pass the local path.')
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint not found: {path}')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001  (torch raises many kinds)
        raise ValueError(
            f'Could not read {path} as a checkpoint with weights_only=True: '
            f'{type(err).__name__}: {str(err).splitlines()[0]}. It is not a '
            'PyTorch checkpoint, is truncated, or carries pickled code, '
            'which is refused for safety.') from err


def read_state_dict(path: str, role: str = 'model') -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint file (``state_dict`` entry or the
    whole dict), with a DDP ``module.`` prefix removed.

    ``role`` only words the error messages (e.g. ``'teacher'``).
    """
    if path is None:
        raise ValueError(
            f'No {role} checkpoint given. Set it in the config or with '
            f'--cfg-options model.{role}_ckpt=<path>.')
    try:
        ckpt = safe_load(path)
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
        raise ValueError(f'{path} holds no state dict of tensors.')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def _some(keys: Iterable[str], n: int = 8) -> str:
    keys = sorted(keys)
    more = f' ... (+{len(keys) - n} more)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


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


enable_safe_mmengine_checkpoints()
