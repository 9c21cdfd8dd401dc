"""Fixes to MMEngine, MMPose and torch behaviour, applied when this module
is imported; ``import distilpose`` alone changes nothing.

The project's configs opt in through ``configs/_base_/default_runtime.py``::

    custom_imports = dict(
        imports=['distilpose', 'distilpose.runtime.mmengine_patches'])

Each fix is applied only to the MMEngine versions it was written for
(0.10.x: :data:`PATCHED_MMENGINE`); on another version it is skipped
with a warning, so that it cannot silently replace code it does not know
(except the naming of non-JSON annotation files, which only wraps MMPose's
COCO loader to re-word its error).
:func:`patched_attributes` lists what was replaced.
"""
import warnings

import mmengine
import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import checkpoint as mmengine_ckpt
from mmengine.utils import digit_version
from mmpose.datasets.datasets.base import BaseCocoStyleDataset

from .. import checkpoint as safe
from ..datasets.coco_annotations import (NOT_JSON, no_people_error,
                                         not_json_error)
from . import checkpoint_saving, cpu_distributed
from .evaluation_loading import (check_complete, evaluating,
                                 loads_for_evaluation)

#: MMEngine releases whose internals the fixes below replace.
PATCHED_MMENGINE = ('0.10.0', '0.11.0')  # [first, end)
#: The safe loader needs torch.serialization.safe_globals.
MIN_TORCH_FOR_SAFE_LOADING = '2.5.0'

_ORIGINAL = {}


def _mmengine_supported() -> bool:
    low, high = (digit_version(v) for v in PATCHED_MMENGINE)
    return low <= digit_version(mmengine.__version__) < high


def _replace(owner, name: str, new) -> None:
    _ORIGINAL[(owner, name)] = getattr(owner, name)
    setattr(owner, name, new)


def patched_attributes() -> list:
    """(owner, attribute name) of everything this module replaced."""
    return list(_ORIGINAL)


# ---------------------------------------------------------------- loading
def _load_local(filename, map_location=None):
    return safe.load_checkpoint_file(filename, map_location,
                                     route='local checkpoint')


def _load_http(filename, map_location=None, model_dir=None, **kwargs):
    # MMEngine's ``progress`` argument: torch's progress bar shows on a tty
    return safe.load_checkpoint_file(filename, map_location,
                                     route='checkpoint URL',
                                     model_dir=model_dir)


def _load_named(filename, map_location=None):
    return safe.load_checkpoint_file(filename, map_location,
                                     route=f'{filename.split(":")[0]}:// '
                                     'checkpoint')


def _load_mmcls(filename, map_location=None):
    checkpoint = _load_named(filename, map_location)
    source = safe.source_of(checkpoint.get('state_dict', checkpoint))
    backbone = mmengine_ckpt._process_mmcls_checkpoint(checkpoint)
    backbone['state_dict'] = safe.with_source(backbone['state_dict'], source)
    return backbone


def _load_with_prefix_naming_the_file(prefix, filename, map_location=None):
    # A Pretrained init with a prefix: MMEngine builds the prefix's state
    # dict anew, without the file's name.
    original = _ORIGINAL[(mmengine_ckpt, '_load_checkpoint_with_prefix')]
    return safe.with_source(original(prefix, filename, map_location),
                            filename)


def _load_state_dict_with_coverage(module, state_dict, strict=False,
                                   logger=None):
    # The loaders above mark the state dict with its file (it survives
    # MMEngine's revise_keys, in the state dict's _metadata).
    source = safe.source_of(state_dict)
    target = module.module if is_model_wrapper(module) else module
    source = f'The checkpoint {source}' if source else 'The state dict'
    safe.check_key_coverage(target, state_dict, source=source)
    if evaluating():
        check_complete(target, state_dict, source)
    original = _ORIGINAL[(mmengine_ckpt, 'load_state_dict')]
    return original(module, state_dict, strict, logger)


def _route_checkpoints_through_the_safe_loader() -> None:
    # MMEngine 0.10 reads checkpoints with plain torch.load, and URLs with
    # torch.hub.load_state_dict_from_url(weights_only=False): code in a
    # cached file would run. Every scheme goes to the safe loader instead.
    loaders = {
        '': _load_local,
        ('http://', 'https://'): _load_http,
        ('modelzoo://', 'torchvision://', 'open-mmlab://', 'openmmlab://'):
        _load_named,
        'mmcls://': _load_mmcls,
    }
    schemes = mmengine_ckpt.CheckpointLoader._schemes
    _ORIGINAL[(mmengine_ckpt.CheckpointLoader, '_schemes')] = dict(schemes)
    for prefixes, loader in loaders.items():
        mmengine_ckpt.CheckpointLoader.register_scheme(
            prefixes, loader, force=True)
    # MMEngine's own torchvision:// and open-mmlab:// loaders call it.
    _replace(mmengine_ckpt, 'load_from_http', _load_http)
    # MMEngine only warns about missing keys: random weights went on.
    _replace(mmengine_ckpt, 'load_state_dict',
             _load_state_dict_with_coverage)
    _replace(mmengine_ckpt, '_load_checkpoint_with_prefix',
             _load_with_prefix_naming_the_file)


def _load_complete_weights_for_evaluation() -> None:
    # Where a model is scored or run as it is, a key MMEngine left random
    # (a head of another shape) gave AP 0 with only a warning: see
    # evaluation_loading. Looked up at call time, so a config's
    # custom_imports is early enough.
    from mmengine.runner import Runner
    from mmpose.apis import inference
    from mmpose.apis.inferencers.base_mmpose_inferencer import \
        BaseMMPoseInferencer
    for owner, name in ((Runner, 'test'), (Runner, 'val'),
                        (inference, 'load_checkpoint'),
                        (BaseMMPoseInferencer, '_load_weights_to_model')):
        _replace(owner, name, loads_for_evaluation(getattr(owner, name)))


# ----------------------------------------------------------------- saving
def _save_checkpoints_safely() -> None:
    # Checkpoints, last_checkpoint and the config dump written whole and
    # never through a link, old checkpoints removed after the new one is
    # saved, full disks and interrupts named: see checkpoint_saving.
    for owner, name, new in checkpoint_saving.replacements():
        _replace(owner, name, new)


# ------------------------------------------------------------------- data
def _load_annotations_naming_the_file(self):
    original = _ORIGINAL[(BaseCocoStyleDataset, '_load_annotations')]
    try:
        loaded = original(self)
    except NOT_JSON as err:
        raise not_json_error(self.ann_file, err) from err
    # MMEngine builds the dataset before any hook runs and fails on an
    # empty one with "need at least one array to concatenate".
    error = no_people_error(self.ann_file, loaded[0])
    if error is not None:
        raise error
    return loaded


def _name_annotation_files_that_are_not_json() -> None:
    # MMPose's COCO loader let a bare JSONDecodeError through, naming no
    # file, when the train dataset was built (before any hook runs).
    _replace(BaseCocoStyleDataset, '_load_annotations',
             _load_annotations_naming_the_file)


# ------------------------------------------------------------ distributed
def _run_torchrun_on_cpu() -> None:
    # MMEngine 0.10's torchrun set-up calls torch.cuda.set_device and the
    # configs ask for nccl; on a CPU-only machine use gloo.
    if torch.cuda.is_available():
        return
    from mmengine.dist import utils as dist_utils
    _replace(dist_utils, '_init_dist_pytorch',
             cpu_distributed.init_dist_pytorch_on_cpu)


def apply() -> None:
    """Apply every fix once (idempotent)."""
    if _ORIGINAL:
        return
    # It only re-words an error, on any MMEngine version.
    _name_annotation_files_that_are_not_json()
    if not _mmengine_supported():
        warnings.warn(
            f'distilpose.runtime.mmengine_patches: MMEngine '
            f'{mmengine.__version__} is outside '
            f'{PATCHED_MMENGINE[0]} <= version < {PATCHED_MMENGINE[1]}, '
            'which its fixes were written for; none is applied (safe '
            'checkpoint loading, atomic saving, CPU torchrun). Check them '
            'against this version and widen PATCHED_MMENGINE.')
        return
    if digit_version(torch.__version__) >= digit_version(
            MIN_TORCH_FOR_SAFE_LOADING):
        _route_checkpoints_through_the_safe_loader()
        _load_complete_weights_for_evaluation()
    else:
        warnings.warn(
            'distilpose.runtime.mmengine_patches: torch '
            f'{torch.__version__} has no '
            'torch.serialization.safe_globals: checkpoints are loaded by '
            f'MMEngine as before. Install torch >= '
            f'{MIN_TORCH_FOR_SAFE_LOADING} for the safe loader.')
    _save_checkpoints_safely()
    _run_torchrun_on_cpu()


apply()
