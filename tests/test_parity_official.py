"""Converted official checkpoints reproduce the official outputs.

Golden values: ``shared/fixtures/parity-A`` (computed with the official
DistilPose modules; tolerances from its README).
"""
import os.path as osp

import pytest
import torch
from conftest import PARITY, build_from_config, require_parity_fixtures

from distilpose.convert import convert_official
from distilpose.models.losses import (ScoreDistilLoss, SimulatedHeatmapLoss,
                                      TokenDistilLoss, simulate_heatmaps)

S_CFG = 'distilpose/coco/distilpose-s_stemnet_inference_coco-256x192.py'
T_CFG = 'tokenpose/coco/tokenpose_stemnet_8xb64-300e_coco-256x192.py'
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

ATOL = {
    'pred': 5e-6, 'score': 1e-5, 'sigma': 5e-6, 'vis_token': 2e-4,
    'kpt_token': 1e-5, 'backbone_out': 2e-4, 'heatmap': 2e-5,
    'simulated_heatmap': 1e-4
}


def load(name):
    return torch.load(osp.join(PARITY, name), weights_only=True)


@pytest.fixture(scope='module')
def fixtures(tmp_path_factory):
    require_parity_fixtures()
    tmp = tmp_path_factory.mktemp('converted')
    out = dict(inputs=load('inputs.pth'), expected=load('expected.pth'),
               loss_cases=load('loss_cases.pth'))
    for name, src, cfg in [
        ('student', 'distilpose_s_official.pth', S_CFG),
        ('teacher', 'tokenpose_stemnet_official.pth', T_CFG),
    ]:
        dst = str(tmp / f'{name}.pth')
        convert_official(osp.join(PARITY, src), dst)
        model = build_from_config(cfg)
        model.load_state_dict(
            torch.load(dst, weights_only=True)['state_dict'], strict=True)
        out[name] = model.eval()
        out[name + '_ckpt'] = dst
    return out


def close(actual, expected, atol):
    assert actual.shape == expected.shape
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f'max abs diff {diff:.3g} > {atol:.3g}'


def student_run(model, img):
    with torch.no_grad():
        feat = model.backbone(img)
        kpt, vis = model.neck(feat)
        out = model.head((kpt, vis))
    return feat[-1], kpt, vis, out


@pytest.mark.parametrize('which', ['img', 'img_flipped'])
def test_student_outputs(fixtures, which):
    exp = fixtures['expected']
    tag = 'student' if which == 'img' else 'student_flip'
    feat, kpt, vis, out = student_run(fixtures['student'],
                                      fixtures['inputs'][which])
    if which == 'img':
        close(feat, exp['student.backbone_out'], ATOL['backbone_out'])
    close(kpt, exp[f'{tag}.kpt_token'], ATOL['kpt_token'])
    close(vis, exp[f'{tag}.vis_token'], ATOL['vis_token'])
    close(out[..., :2], exp[f'{tag}.pred'], ATOL['pred'])
    close(out[..., 2:3], exp[f'{tag}.score'], ATOL['score'])
    close(out[..., 3:5], exp[f'{tag}.sigma'], ATOL['sigma'])


def test_explicit_attention_matches_fused(fixtures):
    """The FLOP-countable (unfused) attention gives the same tokens."""
    model = fixtures['student']
    img = fixtures['inputs']['img']
    _, kpt_fused, _, _ = student_run(model, img)
    try:
        for layer in model.neck.layers:
            layer.attn.fused_attn = False
        _, kpt, _, _ = student_run(model, img)
    finally:
        for layer in model.neck.layers:
            layer.attn.fused_attn = True
    close(kpt, kpt_fused, 1e-5)


def test_teacher_outputs(fixtures):
    exp = fixtures['expected']
    teacher = fixtures['teacher']
    with torch.no_grad():
        kpt, vis = teacher.extract_feat(fixtures['inputs']['img'])
        heatmaps = teacher.head((kpt, vis))
    close(kpt, exp['teacher.kpt_token'], ATOL['kpt_token'])
    close(vis, exp['teacher.vis_token'], ATOL['vis_token'])
    close(heatmaps, exp['teacher.heatmap'], ATOL['heatmap'])


def test_flip_test(fixtures):
    exp = fixtures['expected']
    head = fixtures['student'].head
    out = student_run(fixtures['student'], fixtures['inputs']['img'])[-1]
    out_flip = student_run(fixtures['student'],
                           fixtures['inputs']['img_flipped'])[-1]
    official = (out + head.flip_back(out_flip, COCO_FLIP,
                                     flip_score_swap=False)) * 0.5
    swapped = (out + head.flip_back(out_flip, COCO_FLIP)) * 0.5
    close(official[..., :2], exp['fliptest.pred'], ATOL['pred'])
    close(swapped[..., :2], exp['fliptest.pred'], ATOL['pred'])
    close(official[..., 2:3], exp['fliptest.score'], ATOL['score'])
    close(swapped[..., 2:3], exp['fliptest_swapped.score'], ATOL['score'])


def official_losses(pred, score, sigma, heatmaps, target, weight,
                    mode='official'):
    """The loss terms, from this project's loss modules."""
    from mmpose.models.losses import SmoothL1Loss
    w = weight[..., 0]
    return {
        'reg_loss': SmoothL1Loss(use_target_weight=True)(
            pred, target, w.unsqueeze(-1)),
        'score_loss': ScoreDistilLoss(0.01)(score, pred, heatmaps, w),
        'reg2hm_loss': SimulatedHeatmapLoss(
            (48, 64), reduction_mode=mode)(pred, sigma, heatmaps, w),
    }


def rel_close(actual, expected, rtol):
    assert abs(actual.item() - expected.item()) <= rtol * abs(
        expected.item()), f'{actual.item()} vs {expected.item()}'


def test_losses_on_model_outputs(fixtures):
    exp = fixtures['expected']
    inputs = fixtures['inputs']
    args = [exp[f'student.{k}'] for k in ('pred', 'score', 'sigma')]
    args += [exp['teacher.heatmap'], inputs['target'],
             inputs['target_weight']]
    for name, value in official_losses(*args).items():
        rel_close(value, exp[f'loss.{name}'], 2e-6)
    masked = official_losses(*args, mode='masked')['reg2hm_loss']
    rel_close(masked, exp['loss_intended.reg2hm_loss'], 2e-6)
    tok = TokenDistilLoss(5e-4)
    rel_close(tok(exp['student.vis_token'], exp['teacher.vis_token']),
              exp['loss.vis_dist_loss'], 2e-6)
    rel_close(tok(exp['student.kpt_token'], exp['teacher.kpt_token']),
              exp['loss.kpt_dist_loss'], 2e-6)
    heatmaps, in_bounds = simulate_heatmaps(exp['student.pred'],
                                            exp['student.sigma'], (48, 64))
    close(heatmaps, exp['simulated_heatmap'], ATOL['simulated_heatmap'])
    assert bool(in_bounds.all())


def test_loss_cases_tell_official_from_masked(fixtures):
    case = fixtures['loss_cases']
    args = [case[k] for k in ('pred', 'score', 'sigma', 'teacher_heatmap',
                              'target', 'target_weight')]
    for name, value in official_losses(*args).items():
        rel_close(value, case[f'loss.{name}'], 1e-6)
    masked = official_losses(*args, mode='masked')['reg2hm_loss']
    rel_close(masked, case['loss_intended.reg2hm_loss'], 1e-6)
    targets = ScoreDistilLoss.score_targets(case['pred'],
                                            case['teacher_heatmap'])
    assert torch.equal(targets, case['score_target'])


def test_distiller_loss_matches_official(fixtures):
    """The whole training step of the distiller (student + frozen teacher)
    gives the official loss values in 'official' Reg2HM mode."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    exp, inputs = fixtures['expected'], fixtures['inputs']
    distiller = build_from_config(
        'distilpose/coco/distilpose-s_stemnet_8xb32-300e_coco-256x192.py',
        teacher_cfg=osp.join(osp.dirname(__file__), '..', 'configs',
                             T_CFG),
        teacher_ckpt=fixtures['teacher_ckpt'])
    distiller.distill_losses['sim_heatmap'].reduction_mode = 'official'
    distiller.load_state_dict(fixtures['student'].state_dict())
    distiller.eval()  # BN with the fixture's running statistics
    samples = []
    for target, weight in zip(inputs['target'], inputs['target_weight']):
        sample = PoseDataSample()
        sample.gt_instance_labels = InstanceData(
            keypoint_labels=target[None], keypoint_weights=weight[None, :, 0])
        samples.append(sample)
    with torch.no_grad():
        losses = distiller.loss(inputs['img'], samples)
    for ours, theirs in [('loss_kpt', 'reg_loss'),
                         ('loss_vis_token', 'vis_dist_loss'),
                         ('loss_kpt_token', 'kpt_dist_loss'),
                         ('loss_score', 'score_loss'),
                         ('loss_sim_heatmap', 'reg2hm_loss')]:
        rel_close(losses[ours], exp[f'loss.{theirs}'], 2e-6)
