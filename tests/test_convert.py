"""The converter maps every official checkpoint layout one-to-one."""
import os.path as osp
import pickle

import pytest
import torch
from conftest import SHARED, build_from_config

from distilpose.checkpoint import load_state_dict_strictly
from distilpose.convert import (VARIANTS, convert_official,
                                convert_official_state_dict, detect_variant)
from distilpose.models.necks import sine_position_embedding

KEYS = osp.join(SHARED, 'docs', 'official-keys')
# Trainable parameters of the official models (official-distilpose.md §8).
OFFICIAL_PARAMS = {
    'distilpose_s': ('distilpose-s', 5_364_101),
    'distilpose_l': ('distilpose-l', 21_265_637),
    'tokenpose_hr48_teacher': ('tokenpose-hrnet-w48', 69_411_360),
}


def official_state_from_key_list(name):
    if not osp.isdir(KEYS):
        pytest.skip(f'official key lists not found at {KEYS}')
    state = {}
    with open(osp.join(KEYS, f'{name}.txt')) as f:
        for line in f:
            key, shape = line.rstrip('\n').split('\t')
            shape = tuple(int(s) for s in shape.strip('()').split(',') if s)
            state[key] = (sine_position_embedding(16, 16, 192)
                          if key.endswith('pos_embedding') else
                          torch.zeros(shape))
    return state


@pytest.mark.parametrize('name', sorted(OFFICIAL_PARAMS))
def test_official_layout_converts_strictly(name):
    state = official_state_from_key_list(name)
    variant, params = OFFICIAL_PARAMS[name]
    assert detect_variant(state) == variant
    model = build_from_config(VARIANTS[variant][1])
    load_state_dict_strictly(model, convert_official_state_dict(state, model),
                             source=name)
    assert sum(p.numel() for p in model.parameters()
               if p.requires_grad) == params


def test_mismatched_keys_are_refused_with_names(tmp_path):
    state = official_state_from_key_list('distilpose_s')
    state.pop('keypoint_head.tokenhead.mlp_head.0.bias')
    state['keypoint_head.tokenhead.extra.weight'] = torch.zeros(3)
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'dst.pth')
    torch.save(dict(state_dict=state), src)
    with pytest.raises(ValueError) as err:
        convert_official(src, dst)
    assert 'head.norm.bias' in str(err.value)
    assert 'unmapped.extra.weight' in str(err.value)
    assert not osp.exists(dst)


def test_not_an_official_checkpoint(tmp_path):
    src = str(tmp_path / 'ours.pth')
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}),
               src)
    with pytest.raises(ValueError, match='not an official'):
        convert_official(src, str(tmp_path / 'dst.pth'))


class _Payload:
    def __reduce__(self):
        return (print, ('pickled code ran',))


@pytest.mark.parametrize('content', ['text', 'code'])
def test_non_checkpoints_and_code_pickles_are_refused(tmp_path, content,
                                                      capsys):
    src = tmp_path / 'bad.pth'
    if content == 'text':
        src.write_text('not a checkpoint')
    else:
        with open(src, 'wb') as f:
            pickle.dump({'state_dict': _Payload()}, f)
    with pytest.raises(ValueError, match='weights_only=True'):
        convert_official(str(src), str(tmp_path / 'dst.pth'))
    assert 'pickled code ran' not in capsys.readouterr().out
    assert not (tmp_path / 'dst.pth').exists()
