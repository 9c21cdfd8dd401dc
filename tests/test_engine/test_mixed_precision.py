"""Mixed-precision training of the distiller: its loss and backward run
under BF16 (and fp16) autocast, the head's accuracy and numpy conversions
take half-precision outputs, the frozen teacher runs in its own
``teacher_precision`` inside an autocast step, and MMEngine's
``AmpOptimWrapper`` trains it through a runner. The same on a GPU where
there is one."""
import os.path as osp

import pytest
import torch
from device_utils import needs_cuda
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, checkpoints, make_data, save_teacher,
                          scalars, tiny_config)
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import MODELS

from distilpose.models.utils import init_weights_quietly

pytestmark = pytest.mark.usefixtures('one_thread')
LOSSES = ('loss_kpt', 'loss_vis_token', 'loss_kpt_token', 'loss_sim_heatmap',
          'loss_score')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """(data root, teacher checkpoint) of the toy distillation."""
    root = tmp_path_factory.mktemp('amp')
    data = make_data(str(root / 'data'), num_train=4, num_val=2)
    return data, save_teacher(data, str(root / 'teacher.pth'))


def distiller_and_batch(toy, tmp_path, device='cpu'):
    """The toy distiller on ``device`` and one real preprocessed batch."""
    data, teacher = toy
    cfg = tiny_config('student', data, str(tmp_path), teacher_ckpt=teacher,
                      augment=False)
    init_default_scope('mmpose')
    model = init_weights_quietly(MODELS.build(cfg.model)).to(device)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = model.data_preprocessor(next(iter(loader)), True)
    return model.train(), batch['inputs'], batch['data_samples']


def spy_on_head(model, seen: list) -> None:
    """Record (dtype, device type) of each output of the head's forward
    (which the distiller calls directly, bypassing module hooks)."""
    forward = model.head.forward

    def recorded(*args, **kwargs):
        out = forward(*args, **kwargs)
        seen.append((out.dtype, out.device.type))
        return out

    model.head.forward = recorded


def loss_and_grads(model, inputs, samples, autocast=None):
    """Losses (floats), their dtypes, the head's output dtype and the
    student's gradients after backward, under ``autocast`` (a
    ``torch.autocast`` or None)."""
    seen = []
    spy_on_head(model, seen)
    model.zero_grad()
    try:
        if autocast is None:
            losses = model.loss(inputs, samples)
        else:
            with autocast:
                losses = model.loss(inputs, samples)
        loss, _ = model.parse_losses(losses)
        loss.backward()
    finally:
        del model.head.forward
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    return ({k: float(v.detach()) for k, v in losses.items()},
            {k: v.dtype for k, v in losses.items()}, seen[0][0], grads)


def check_against_fp32(model, inputs, samples, autocast, half):
    ref, _, ref_out, _ = loss_and_grads(model, inputs, samples)
    got, dtypes, out, grads = loss_and_grads(model, inputs, samples,
                                             autocast)
    assert ref_out == torch.float32 and out == half  # autocast really ran
    assert set(LOSSES) <= set(got)
    for key in LOSSES:
        assert dtypes[key] == torch.float32, (key, dtypes[key])
        # BF16 keeps 8 bits of mantissa: a few parts in a thousand
        assert abs(got[key] - ref[key]) <= 0.05 * abs(ref[key]) + 1e-5, (
            key, got[key], ref[key])
    assert 0 <= got['acc_pose'] <= 1
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize('dtype, teacher_precision', [
    (torch.bfloat16, 'fp32'), (torch.bfloat16, 'bf16'),
    (torch.float16, 'fp32')])
def test_the_distiller_trains_under_cpu_autocast(toy, tmp_path, dtype,
                                                 teacher_precision):
    """Mixed precision on a CPU (what ``AmpOptimWrapper`` does on a GPU):
    the head's accuracy no longer stops BF16 (numpy has none)."""
    model, inputs, samples = distiller_and_batch(toy, tmp_path)
    model.teacher_precision = teacher_precision
    check_against_fp32(model, inputs, samples,
                       torch.autocast('cpu', dtype=dtype), dtype)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_the_head_takes_half_precision_outputs(toy, tmp_path, dtype):
    """The head's loss, accuracy and predictions in float32 from BF16 or
    fp16 outputs (an AMP step, a validation under autocast)."""
    model, inputs, samples = distiller_and_batch(toy, tmp_path)
    head = model.head
    with torch.no_grad():
        outputs = head.forward(model.extract_feat(inputs))
    ref = head.loss_by_outputs(outputs, samples)
    got = head.loss_by_outputs(outputs.to(dtype), samples)
    assert got['loss_kpt'].dtype == torch.float32
    assert abs(float(got['loss_kpt']) - float(ref['loss_kpt'])) <= 1e-2 * \
        float(ref['loss_kpt'])
    preds = {}
    for kind in (torch.float32, dtype):
        head.forward = lambda feats, kind=kind: outputs.to(kind)
        preds[kind] = head.predict(None, samples)
    for ref, half in zip(preds[torch.float32], preds[dtype]):
        for key in ('keypoints', 'keypoint_scores'):
            a, b = getattr(ref, key), getattr(half, key)
            assert a.dtype == b.dtype and abs(a - b).max() <= 0.02 * \
                max(abs(a).max(), 1), key


def test_the_teacher_keeps_its_precision_inside_an_autocast_step(
        toy, tmp_path):
    """Under a BF16 step, teacher_precision='fp32' runs the teacher in
    float32 (the same targets as outside it) and 'bf16' in BF16; its
    outputs are float32 either way."""
    model, inputs, _ = distiller_and_batch(toy, tmp_path)
    ref = model.teacher_forward(inputs)
    for precision in ('fp32', 'bf16'):
        model.teacher_precision = precision
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = model.teacher_forward(inputs)
        assert all(t.dtype == torch.float32 for t in got)
        same = all(torch.equal(a, b) for a, b in zip(got, ref))
        assert same == (precision == 'fp32'), precision
        assert all(torch.allclose(a, b, atol=0.05, rtol=0.05)
                   for a, b in zip(got, ref))


# ------------------------------------------- MMEngine's AmpOptimWrapper
def amp_config(toy, work_dir, dtype):
    data, teacher = toy
    cfg = tiny_config('student', data, work_dir, teacher_ckpt=teacher,
                      augment=False)
    cfg.optim_wrapper.update(type='AmpOptimWrapper', dtype=dtype)
    # the training step is what is checked: no validation
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.val_interval = 10
    return cfg


def train_and_check(cfg, half, device):
    runner = build_runner(cfg)
    seen = []
    spy_on_head(runner.model, seen)
    runner.train()
    assert seen and set(seen) == {(half, device)}, seen
    steps = scalars(cfg.work_dir)
    assert steps and all(
        torch.isfinite(torch.tensor(s['loss'])) for s in steps)
    assert {'loss_kpt', 'loss_sim_heatmap', 'acc_pose'} <= set(steps[0])
    assert checkpoints(cfg.work_dir) == ['epoch_1.pth']
    ckpt = torch.load(osp.join(cfg.work_dir, 'epoch_1.pth'),
                      weights_only=False)
    assert all(v.dtype == torch.float32
               for v in ckpt['state_dict'].values() if v.is_floating_point())
    assert 'loss_scaler' in ckpt['optimizer']


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_mmengine_amp_needs_a_gpu(toy, tmp_path):
    """MMEngine 0.10's AmpOptimWrapper refuses a machine without a GPU
    (its own assertion): BF16 AMP training is a GPU option."""
    cfg = amp_config(toy, str(tmp_path), 'bfloat16')
    with pytest.raises(AssertionError, match='only available training on '
                       'gpu'):
        build_runner(cfg).train()


def test_a_runner_trains_the_distiller_with_bf16_amp(toy, tmp_path,
                                                     monkeypatch):
    """``optim_wrapper=dict(type='AmpOptimWrapper', dtype='bfloat16')``
    through MMEngine's runner: the step runs in BF16 autocast (MMEngine's
    autocast takes the CPU here; its wrapper's GPU check is lifted for the
    test, its CUDA loss scaler then disables itself), the losses are
    finite and the checkpoint float32."""
    if not torch.cuda.is_available():
        monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                            lambda: True)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    train_and_check(amp_config(toy, str(tmp_path), 'bfloat16'),
                    torch.bfloat16, device)


# ------------------------------------------------------------- on a GPU
@needs_cuda
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_the_distiller_trains_under_cuda_autocast(toy, tmp_path, dtype):
    model, inputs, samples = distiller_and_batch(toy, tmp_path, 'cuda')
    assert inputs.is_cuda
    model.teacher_precision = 'bf16'
    check_against_fp32(model, inputs, samples,
                       torch.autocast('cuda', dtype=dtype), dtype)


@needs_cuda
def test_a_runner_trains_the_distiller_with_fp16_amp_on_a_gpu(toy,
                                                              tmp_path):
    train_and_check(amp_config(toy, str(tmp_path), 'float16'),
                    torch.float16, 'cuda')
