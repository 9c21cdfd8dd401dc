"""Convert official DistilPose / TokenPose checkpoints to this project.

The official release (MMPose 0.22) stores the student encoder and head under
``keypoint_head.tokenhead.*`` and the teacher's under
``keypoint_head.tokenpose.*``. This module recognises the model from its
keys, maps every key to this project's layout (neck = token encoder, head =
regression or heatmap MLP), checks the result strictly against a model built
from the matching config, and writes a checkpoint for that config.
"""
import os.path as osp
import re
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config

from .checkpoint import (load_checkpoint_file, load_state_dict_strictly,
                         read_state_dict, save_checkpoint_atomically)
from .models.necks import sine_position_embedding

CONFIG_ROOT = osp.join(osp.dirname(__file__), '..', '..', 'configs')

#: variant -> (description, config relative to ``configs/``)
VARIANTS = {
    'distilpose-s': ('DistilPose-S (StemNet student)',
                     'distilpose/coco/'
                     'distilpose-s_stemnet_inference_coco-256x192.py'),
    'distilpose-l': (
        'DistilPose-L (3-stage HRNet-W48 student)', 'distilpose/coco/'
        'distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py'),
    'td-reg-stemnet': ('regression baseline, StemNet',
                       'distilpose/coco/'
                       'td-reg_stemnet-tde_8xb64-300e_coco-256x192.py'),
    'td-reg-hrnet-w48-3stage': (
        'regression baseline, 3-stage HRNet-W48', 'distilpose/coco/'
        'td-reg_hrnet-w48-3stage-tde_8xb64-300e_coco-256x192.py'),
    'tokenpose-hrnet-w48': ('TokenPose teacher, HRNet-W48',
                            'tokenpose/coco/'
                            'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py'),
    'tokenpose-stemnet': ('TokenPose teacher, StemNet',
                          'tokenpose/coco/'
                          'tokenpose_stemnet_8xb64-300e_coco-256x192.py'),
}

_STUDENT = 'keypoint_head.tokenhead.'
_TEACHER = 'keypoint_head.tokenpose.'
_LAYER = re.compile(r'transformer\.layers\.(\d+)\.([01])\.fn\.(.+)')
_LAYER_PARTS = {
    ('0', 'norm'): 'ln1',
    ('0', 'fn.to_qkv'): 'attn.qkv',
    ('0', 'fn.to_out.0'): 'attn.proj',
    ('1', 'norm'): 'ln2',
    ('1', 'fn.net.0'): 'mlp.fc1',
    ('1', 'fn.net.3'): 'mlp.fc2',
}


def detect_variant(state: Dict[str, torch.Tensor]) -> str:
    """Name the official model a state dict belongs to (see ``VARIANTS``)."""
    keys = state.keys()
    if any(k.startswith(_TEACHER) for k in keys):
        if any(k.startswith('backbone.stage4.') for k in keys):
            return 'tokenpose-hrnet-w48'
        if any(k.startswith('backbone.stage') for k in keys):
            raise ValueError('A TokenPose checkpoint with an HRNet backbone '
                             'that has no stage 4 is not an official model.')
        return 'tokenpose-stemnet'
    if any(k.startswith(_STUDENT) for k in keys):
        head = state.get(_STUDENT + 'mlp_head.1.weight')
        if head is None:
            raise ValueError(f'No {_STUDENT}mlp_head.1.weight: not an '
                             'official DistilPose checkpoint.')
        hrnet = any(k.startswith('backbone.stage3.') for k in keys)
        if head.shape[0] == 5:
            return 'distilpose-l' if hrnet else 'distilpose-s'
        if head.shape[0] == 2:
            return 'td-reg-hrnet-w48-3stage' if hrnet else 'td-reg-stemnet'
        raise ValueError(
            f'DistilPose head with {head.shape[0]} outputs: only the '
            "official 'all' (5) and 'kpt' (2) output modes are supported.")
    raise ValueError(
        'Neither keypoint_head.tokenhead.* (DistilPose) nor '
        'keypoint_head.tokenpose.* (TokenPose) keys: not an official '
        'DistilPose/TokenPose checkpoint. Checkpoints of this project need '
        'no conversion.')


def _map_head_key(rest: str, teacher: bool) -> Optional[str]:
    """Official key (prefix removed) -> this project's key, None to drop."""
    m = _LAYER.fullmatch(rest)
    if m:
        idx, block, tail = m.groups()
        for (b, old), new in _LAYER_PARTS.items():
            if block == b and tail.startswith(old + '.'):
                return f'neck.layers.{idx}.{new}{tail[len(old):]}'
        return 'unmapped.' + rest
    if rest == 'keypoint_token':
        return 'neck.keypoint_tokens'
    if rest.startswith('patch_to_embedding.'):
        return 'neck.patch_embed.' + rest.split('.', 1)[1]
    if rest == 'pos_embedding':
        return None
    if rest.startswith('mlp_head.'):
        idx, tail = rest[len('mlp_head.'):].split('.', 1)
        if teacher:
            return f'head.mlp.{idx}.{tail}'
        student = {'0': 'head.norm.', '1': 'head.fc.'}
        return student.get(idx, 'unmapped.') + tail
    return 'unmapped.' + rest


def convert_official_state_dict(state: Dict[str, torch.Tensor],
                                model: torch.nn.Module) -> dict:
    """Map official keys onto ``model``'s layout; ``model`` supplies the
    patch geometry for the Linear -> Conv2d patch-embedding reshape."""
    neck = model.neck
    pw, ph = neck.patch_size
    out = {}
    for key, value in state.items():
        if key.startswith('backbone.'):
            out[key] = value
            continue
        teacher = key.startswith(_TEACHER)
        prefix = _TEACHER if teacher else _STUDENT
        if not key.startswith(prefix):
            out[key] = value  # reported as unexpected by the strict load
            continue
        rest = key[len(prefix):]
        new = _map_head_key(rest, teacher)
        if new is None:
            _check_sine_table(value, neck)
        elif new == 'neck.patch_embed.weight':
            # Linear over (row, col, channel)-flattened patches -> Conv2d.
            dims, in_features = value.shape
            channels = in_features // (ph * pw)
            out[new] = value.reshape(dims, ph, pw, channels).permute(
                0, 3, 1, 2).contiguous()
        else:
            out[new] = value
    return out


def _check_sine_table(table: torch.Tensor, neck) -> None:
    gw, gh = neck.grid_size
    expected = sine_position_embedding(gh, gw, neck.embed_dims)
    if table.shape != expected.shape or not torch.allclose(
            table.float(), expected, atol=1e-5):
        raise ValueError(
            'The checkpoint\'s pos_embedding is not the fixed 2-D sine table '
            f'for a {gw}x{gh} patch grid: learned or other positional '
            'embeddings are not supported.')


def build_model_for(config: str):
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    return MODELS.build(cfg.model)


def convert_official(src: str,
                     dst: str,
                     config: Optional[str] = None) -> Tuple[str, str]:
    """Convert the official checkpoint ``src`` and save it to ``dst``.

    Returns:
        tuple[str, str]: the detected variant and the config to use with
        the converted checkpoint.
    """
    state = read_state_dict(src, role='official')
    variant = detect_variant(state)
    config = config or osp.normpath(
        osp.join(CONFIG_ROOT, VARIANTS[variant][1]))
    model = build_model_for(config)
    converted = convert_official_state_dict(state, model)
    load_state_dict_strictly(
        model, converted,
        source=f'{src} (detected: {VARIANTS[variant][0]}) after conversion')
    meta = dict(converted_from=osp.basename(src), variant=variant,
                config=osp.relpath(config, osp.join(CONFIG_ROOT, '..')))
    save_checkpoint_atomically(dict(meta=meta, state_dict=converted), dst)
    return variant, config


def extract_student(src: str, dst: str, config: Optional[str] = None) -> int:
    """Write the student of a distillation checkpoint as a plain checkpoint.

    Drops ``teacher.*`` keys and the training state (optimizer, message hub,
    schedulers), strips a ``student.`` prefix, and keeps ``meta`` (dataset
    metainfo). With ``config`` (the student's inference config) the result
    is checked strictly against that model. Returns the number of tensors.
    """
    ckpt = load_checkpoint_file(src, route='distillation checkpoint')
    state = read_state_dict(src)
    state = {k: v for k, v in state.items() if not k.startswith('teacher.')}
    if state and all(k.startswith('student.') for k in state):
        state = {k[len('student.'):]: v for k, v in state.items()}
    if config is not None:
        load_state_dict_strictly(
            build_model_for(config), state, source=f'student of {src}')
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    save_checkpoint_atomically(dict(meta=meta, state_dict=state), dst)
    return len(state)
