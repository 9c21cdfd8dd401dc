import copy
import os.path as osp

import pytest
import torch
from conftest import build_from_config, config_path
from mmpose.testing import get_packed_inputs

S_TRAIN = 'distilpose/coco/distilpose-s_stemnet_8xb32-300e_coco-256x192.py'
S_INFER = 'distilpose/coco/distilpose-s_stemnet_inference_coco-256x192.py'
T_STEM = 'tokenpose/coco/tokenpose_stemnet_8xb64-300e_coco-256x192.py'


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    teacher = build_from_config(T_STEM)
    teacher.init_weights()
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def build_distiller(teacher_ckpt, **kw):
    return build_from_config(S_TRAIN, teacher_cfg=config_path(T_STEM),
                             teacher_ckpt=teacher_ckpt, **kw)


def batch(n=2, k=17):
    """Normalised images and regression labels of MMPose's test batch."""
    packed = get_packed_inputs(n, num_keypoints=k, with_heatmap=False,
                               with_simcc_label=False)
    images = torch.stack(packed['inputs']).float()
    return (images - 128.) / 64., packed['data_samples']


def test_teacher_hidden_from_params_optimizer_and_checkpoints(teacher_ckpt):
    model = build_distiller(teacher_ckpt)
    teacher_params = {id(p) for p in model.teacher.parameters()}
    assert not teacher_params & {id(p) for p in model.parameters()}
    keys = model.state_dict().keys()
    assert not any(k.startswith('teacher') for k in keys)
    student = build_from_config(S_INFER)
    assert keys == student.state_dict().keys()
    student.load_state_dict(model.state_dict(), strict=True)


def test_the_repr_names_the_invisible_teacher(teacher_ckpt):
    model = build_distiller(teacher_ckpt)
    text = repr(model)
    teacher_line = [line for line in text.splitlines()
                    if line.startswith('  (teacher): ')]
    assert len(teacher_line) == 1, text[-500:]
    assert 'TopdownPoseEstimator(' in teacher_line[0]
    assert 'not in state_dict(), the optimizer or DDP' in teacher_line[0]
    assert text.endswith(')') and '(head): DistilPoseHead' in text


def test_teacher_frozen_through_training_steps(teacher_ckpt):
    model = build_distiller(teacher_ckpt)
    model.init_weights()
    before = copy.deepcopy(model.teacher.state_dict())
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    assert not model.teacher.training
    assert all(not p.requires_grad for p in model.teacher.parameters())
    for _ in range(2):
        inputs, samples = batch()
        losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert set(losses) >= {'loss_kpt', 'loss_vis_token', 'loss_kpt_token',
                           'loss_sim_heatmap', 'loss_score'}
    after = model.teacher.state_dict()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key
    assert all(p.grad is None for p in model.teacher.parameters())


def test_teacher_follows_device_and_dtype(teacher_ckpt):
    model = build_distiller(teacher_ckpt).double()
    assert next(model.teacher.parameters()).dtype == torch.float64


def test_missing_teacher_checkpoint_is_a_clear_error(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError,
                       match='teacher checkpoint .* does not exist'):
        build_distiller(missing)


def test_teacher_checkpoint_of_another_model_names_the_keys(tmp_path):
    path = str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=build_from_config(S_INFER).state_dict()),
               path)
    with pytest.raises(ValueError) as err:
        build_distiller(path)
    message = str(err.value)
    assert 'missing keys' in message and 'head.mlp' in message
    assert 'unexpected keys' in message and 'head.fc' in message


def test_keypoint_mismatch_is_a_build_error(teacher_ckpt, tmp_path):
    from mmengine.config import Config
    cfg = Config.fromfile(config_path(T_STEM)).model
    cfg.neck.num_keypoints = 16
    cfg.head.out_channels = 16
    with pytest.raises(ValueError,
                       match='predicts 17 keypoints and the teacher head 16'):
        build_from_config(S_TRAIN, teacher_cfg=cfg.to_dict(),
                          teacher_ckpt=teacher_ckpt)


def test_unknown_distill_term_is_rejected(teacher_ckpt):
    with pytest.raises(ValueError, match='Unknown distill_losses'):
        build_distiller(teacher_ckpt,
                        distill_losses=dict(feature=dict(type='KDLoss')))


def test_init_backbone_from_teacher_requires_matching_keys(teacher_ckpt):
    model = build_distiller(teacher_ckpt, init_backbone_from_teacher=True)
    model.init_weights()
    t_state = model.teacher.backbone.state_dict()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, t_state[key]), key
    assert osp.isfile(teacher_ckpt)


def test_bf16_teacher_gives_float32_targets_close_to_fp32(teacher_ckpt):
    fp32 = build_distiller(teacher_ckpt)
    bf16 = build_distiller(teacher_ckpt, teacher_precision='bf16')
    inputs, _ = batch()
    for ref, got in zip(fp32.teacher_forward(inputs),
                        bf16.teacher_forward(inputs)):
        assert got.dtype == torch.float32
        assert not torch.equal(got, ref)  # bf16 really ran
        # 8 mantissa bits: about 1 % of the largest value, after a network
        assert (got - ref).abs().max() <= 0.05 * ref.abs().max()


def test_a_bf16_teacher_on_an_emulating_cpu_is_named(teacher_ckpt,
                                                     bf16_host):
    bf16_host(False)
    model = build_distiller(teacher_ckpt, teacher_precision='bf16')
    inputs, _ = batch()
    with pytest.warns(UserWarning, match="teacher_precision='fp32'"):
        model.teacher_forward(inputs)


def test_unknown_teacher_precision_is_a_build_error(teacher_ckpt):
    with pytest.raises(ValueError, match="teacher_precision='fp16'"):
        build_distiller(teacher_ckpt, teacher_precision='fp16')


def student_on_another_grid(teacher_ckpt, distill_losses):
    """A student whose token encoder cuts smaller patches than the
    teacher's: more visual tokens, the same keypoint tokens."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config_path(S_TRAIN)).model.to_dict()
    neck = cfg['neck']
    neck['patch_size'] = tuple(p // 2 for p in neck['patch_size'])
    cfg.update(teacher_cfg=config_path(T_STEM), teacher_ckpt=teacher_ckpt,
               distill_losses=distill_losses)
    init_default_scope('mmpose')
    return MODELS.build(cfg)


def test_visual_tokens_on_another_grid_are_a_build_error(teacher_ckpt):
    with pytest.raises(ValueError, match='differ in grid_size.*drop '
                       'vis_token'):
        student_on_another_grid(
            teacher_ckpt, dict(vis_token=dict(type='TokenDistilLoss')))


def test_keypoint_tokens_distil_across_grids(teacher_ckpt):
    model = student_on_another_grid(
        teacher_ckpt,
        dict(kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
             sim_heatmap=dict(type='SimulatedHeatmapLoss')))
    assert model.neck.num_patches > model.teacher.neck.num_patches
    losses = model.loss(*batch())
    assert set(losses) >= {'loss_kpt', 'loss_kpt_token', 'loss_sim_heatmap'}
    assert 'loss_vis_token' not in losses
    assert all(torch.isfinite(v) for v in losses.values())
