"""Loss weights that cannot be meant (negative, NaN, infinite, not a
number, a bool) are refused when the model is built, naming the config key
and the value: the project's losses themselves, and in the distiller every
distillation term and the student head's loss (MMPose's included)."""
import copy
import functools

import numpy as np
import pytest
import torch.nn as nn
from engine_utils import save_teacher, tiny_config
from mmengine.registry import init_default_scope
from mmpose.models.losses import KeypointMSELoss
from mmpose.registry import MODELS

from distilpose.models.losses import (ScoreDistilLoss, SimulatedHeatmapLoss,
                                      TokenDistilLoss, check_loss_weight,
                                      check_loss_weights)

LOSSES = [TokenDistilLoss, SimulatedHeatmapLoss, ScoreDistilLoss]

BAD = [
    (-1.0, ValueError, 'is -1.0: a negative weight makes training maximise'),
    (float('nan'), ValueError, 'is nan: every loss would be non-finite'),
    (float('inf'), ValueError, 'is inf: every loss would be non-finite'),
    ('0.5', TypeError, "is '0.5' (str), not a number"),
    (True, TypeError, 'is True (bool), not a number'),
    (None, TypeError, 'is None (NoneType), not a number'),
]


@pytest.mark.parametrize('loss', LOSSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize('value,error,phrase', BAD, ids=repr)
def test_the_project_losses_refuse_bad_weights(loss, value, error, phrase):
    with pytest.raises(error) as err:
        loss(loss_weight=value)
    assert str(err.value).startswith(f'{loss.__name__} loss_weight {phrase}')
    assert 'Set ' in str(err.value) and 'finite number >= 0' in str(err.value)


@pytest.mark.parametrize('value', [0, 0.0, 2, np.float32(0.5)])
def test_zero_and_positive_weights_are_kept(value):
    assert check_loss_weight(value, 'w') == value
    assert TokenDistilLoss(loss_weight=value).loss_weight == value


def test_every_loss_module_of_a_model_is_checked_by_its_config_key():
    head = nn.Module()
    head.loss_module = KeypointMSELoss(loss_weight=-2.0)  # MMPose's
    model = nn.Module()
    model.head = head
    with pytest.raises(ValueError, match=r'^model\.head\.loss\.loss_weight '
                       r'\(KeypointMSELoss\) is -2\.0: a negative weight'):
        check_loss_weights(model)
    head.loss_module.loss_weight = 1.0
    check_loss_weights(model)


@pytest.fixture(scope='module')
def student_cfg(tmp_path_factory):
    """The toy student config (no data needed to build the model)."""
    folder = tmp_path_factory.mktemp('student')
    ckpt = save_teacher(str(folder), str(folder / 'teacher.pth'))
    return tiny_config('student', str(folder), str(folder / 'work'),
                       teacher_ckpt=ckpt)


def build(cfg, **changes):
    """The config's model, with ``changes`` keyed by dotted paths."""
    model = copy.deepcopy(cfg.model.to_dict())
    for key, value in changes.items():
        *path, last = key.split('.')
        functools.reduce(dict.__getitem__, path, model)[last] = value
    init_default_scope('mmpose')
    return MODELS.build(model)


@pytest.mark.parametrize('term', ['vis_token', 'kpt_token', 'sim_heatmap',
                                  'score'])
@pytest.mark.parametrize('value,error,phrase', BAD, ids=repr)
def test_the_distiller_names_the_term_of_a_bad_weight(student_cfg, term,
                                                      value, error, phrase):
    with pytest.raises(error) as err:
        build(student_cfg, **{f'distill_losses.{term}.loss_weight': value})
    assert str(err.value).startswith(
        f'model.distill_losses.{term}.loss_weight {phrase}')
    assert f'Set model.distill_losses.{term}.loss_weight to a finite ' \
        'number >= 0' in str(err.value)


@pytest.mark.parametrize('value,error,phrase', BAD[:4], ids=repr)
def test_the_distiller_checks_the_head_loss_of_mmpose(student_cfg, value,
                                                      error, phrase):
    with pytest.raises(error) as err:
        build(student_cfg, **{'head.loss.loss_weight': value})
    assert str(err.value).startswith(
        f'model.head.loss.loss_weight (SmoothL1Loss) {phrase}')


def test_the_toy_student_with_its_own_weights_builds(student_cfg):
    model = build(student_cfg)
    assert model.distill_losses['score'].loss_weight == 0.01


@pytest.mark.parametrize('head', ['TokenPoseHead', 'DistilPoseHead'])
def test_a_head_refuses_a_bad_weight_of_its_own_loss(head):
    init_default_scope('mmpose')
    loss = (dict(type='KeypointMSELoss', loss_weight=-1.) if head ==
            'TokenPoseHead' else dict(type='SmoothL1Loss', loss_weight=-1.))
    kwargs = (dict(in_channels=32, out_channels=17, heatmap_size=(12, 16))
              if head == 'TokenPoseHead' else dict(in_channels=32))
    with pytest.raises(ValueError) as err:
        MODELS.build(dict(type=head, loss=loss, **kwargs))
    assert 'model.head.loss.loss_weight' in str(err.value)
    assert '-1.0' in str(err.value)
