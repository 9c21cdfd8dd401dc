"""DistilPose students distilled from MMPose heatmap models (not TokenPose):
config routes, build-time refusals, the teacher's heatmap frame."""
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import ROOT, config_path
from mmengine.config import Config
from mmpose.codecs import MSRAHeatmap, UDPHeatmap
from mmpose.testing import get_packed_inputs

from distilpose.models.distillers.teacher import (resolve_scoped_config,
                                                  teacher_heatmap_frame)
from distilpose.models.losses import simulate_heatmaps

S_TRAIN = 'distilpose/coco/distilpose-s_stemnet_8xb32-300e_coco-256x192.py'
HRNET = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
         'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
# The demo's student and its MMPose heatmap teacher (shipped weights).
DEMO_STUDENT = ('distilpose/synthcoco/'
                'distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py')
DEMO_HM_TEACHER = ('topdown_heatmap/synthcoco/'
                   'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py')
DEMO_HM_WEIGHTS = osp.join(
    ROOT, 'model_zoo', 'synthcoco',
    'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth')
HEATMAP_TERMS = dict(
    sim_heatmap=dict(type='SimulatedHeatmapLoss'),
    score=dict(type='ScoreDistilLoss', loss_weight=0.01))


def demo_teacher(codec_type='MSRAHeatmap', **codec):
    cfg = Config.fromfile(config_path(DEMO_HM_TEACHER)).model
    cfg.head.decoder.update(type=codec_type, **codec)
    if codec_type != 'MSRAHeatmap':
        for key in ('unbiased', 'blur_kernel_size'):
            cfg.head.decoder.pop(key)
    return cfg.to_dict()


def save_weights(model_cfg, path):
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model = MODELS.build(Config(dict(model=model_cfg)).model)
    torch.save(dict(state_dict=model.state_dict()), str(path))
    return str(path)


def distiller(teacher_cfg, teacher_ckpt=DEMO_HM_WEIGHTS,
              distill_losses=HEATMAP_TERMS, student=DEMO_STUDENT):
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config_path(student)).model
    # Replaced, not merged: the config's own terms include the token ones.
    cfg.distill_losses = distill_losses
    init_default_scope('mmpose')
    return MODELS.build(
        dict(cfg, teacher_cfg=teacher_cfg, teacher_ckpt=teacher_ckpt))


def train_steps(model, steps=2, input_size=(96, 128)):
    model.init_weights()
    model.train()
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        packed = get_packed_inputs(2, num_keypoints=17,
                                   img_shape=input_size[::-1],
                                   input_size=input_size,
                                   heatmap_size=(24, 32), with_heatmap=False,
                                   with_simcc_label=False)
        inputs = (torch.stack(packed['inputs']).float() - 128.) / 64.
        losses = model.loss(inputs, packed['data_samples'])
        losses = {k: v for k, v in losses.items() if k.startswith('loss')}
        loss = sum(losses.values())
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert set(losses) == {'loss_kpt', 'loss_sim_heatmap', 'loss_score'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert not model.teacher.training
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.teacher.parameters())


def test_mmpose_scoped_teacher_config_builds_and_trains(tmp_path):
    cfg = Config.fromfile(resolve_scoped_config(HRNET))
    ckpt = save_weights(cfg.model, tmp_path / 'hrnet.pth')
    model = distiller(HRNET, ckpt, student=S_TRAIN)
    assert type(model.teacher.backbone).__name__ == 'HRNet'
    # MSRA frame: (w, h) heatmap pixels per normalised unit.
    assert model.distill_losses['sim_heatmap'].coord_scale == (48., 64.)
    train_steps(model, steps=1, input_size=(192, 256))


def test_dict_teacher_trains_with_heatmap_terms_only():
    train_steps(distiller(demo_teacher()))


def test_token_terms_are_refused_without_a_token_teacher():
    terms = dict(HEATMAP_TERMS,
                 kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4))
    with pytest.raises(ValueError,
                       match=r"\['kpt_token'\] distil tokens.*no token "
                       'encoder'):
        distiller(demo_teacher(), distill_losses=terms)


def test_unknown_scoped_config_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match='does not exist'):
        distiller('mmpose::body_2d_keypoint/nope.py')


def test_teacher_of_another_input_size_is_refused():
    teacher = demo_teacher(input_size=(192, 256), heatmap_size=(48, 64))
    with pytest.raises(ValueError, match=r'teacher sees \(192, 256\)'):
        distiller(teacher)


def test_non_heatmap_teacher_is_refused():
    teacher = demo_teacher()
    teacher['head'] = dict(type='RegressionHead', in_channels=16,
                           num_joints=17)
    with pytest.raises(TypeError, match='top-down heatmap model'):
        distiller(teacher)


def test_udp_teacher_sets_the_udp_frame():
    model = distiller(demo_teacher('UDPHeatmap'))
    expected = (96 * 23 / 95, 128 * 31 / 127)
    for term in ('sim_heatmap', 'score'):
        assert model.distill_losses[term].coord_scale == \
            pytest.approx(expected)


@pytest.mark.parametrize('codec_cls', [MSRAHeatmap, UDPHeatmap])
def test_simulated_peak_lands_on_the_teacher_peak(codec_cls):
    """A keypoint where the two conventions disagree by a pixel: drawn in
    the teacher's frame, the simulated peak is the teacher's peak pixel."""
    input_size, heatmap_size = (192, 256), (48, 64)
    codec = codec_cls(input_size=input_size, heatmap_size=heatmap_size,
                      sigma=2)
    keypoint = np.array([[[151., 203.]]])  # MSRA x 37.75, UDP x 37.16
    target = codec.encode(keypoint, np.ones((1, 1)))['heatmaps'][0]
    t_peak = np.unravel_index(target.argmax(), target.shape)

    class Head:
        decoder = codec

    scale = teacher_heatmap_frame(Head, input_size)
    coords = torch.tensor(keypoint / np.array(input_size)).float()
    sim, _ = simulate_heatmaps(coords, torch.full((1, 1, 2), 1.5),
                               heatmap_size, scale)
    s_peak = np.unravel_index(sim[0, 0].argmax().item(), sim.shape[2:])
    assert s_peak == t_peak
    # The other convention misses it: the test tells the frames apart.
    other = (48., 64.) if codec_cls is UDPHeatmap else \
        teacher_heatmap_frame(
            type('H', (), {'decoder': UDPHeatmap(input_size, heatmap_size)}),
            input_size)
    sim, _ = simulate_heatmaps(coords, torch.full((1, 1, 2), 1.5),
                               heatmap_size, other)
    assert np.unravel_index(sim[0, 0].argmax().item(),
                            sim.shape[2:]) != t_peak


def test_vitpose_example_config_uses_udp_crops_and_a_scoped_teacher():
    """The ViTPose-B example (building it needs mmpretrain): its teacher
    config resolves, its codec is UDP, and the student's crops are UDP."""
    cfg = Config.fromfile(config_path(
        'distilpose/coco/'
        'distilpose-s_stemnet_td-hm-vitpose-b-teacher_8xb32-300e_coco-256x192'
        '.py'))
    teacher = Config.fromfile(resolve_scoped_config(cfg.model.teacher_cfg))
    assert teacher.model.head.decoder.type == 'UDPHeatmap'
    assert set(cfg.model.distill_losses) == {'sim_heatmap', 'score'}
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        (affine, ) = [t for t in loader.dataset.pipeline
                      if t['type'] == 'TopdownAffine']
        assert affine['use_udp'] is True
