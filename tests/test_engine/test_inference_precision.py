"""BF16 autocast and torch.compile for inference: the demo's trained
student agrees with fp32 on generated images, outputs stay float32, fp32
comes back exactly, bad switches are refused, the autocast runs on the
device of the model's inputs (CPU or GPU)."""
import os
import os.path as osp
import warnings

import numpy as np
import pytest
import torch
from benchmarking.analysis import machine_name
from conftest import ROOT, config_path, person_boxes
from device_utils import AutocastSpy, FakeCudaTensor, needs_cuda
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, make_data, tiny_config
from mmpose.apis import inference_topdown, init_model

from distilpose.models.utils import bf16 as bf16_module
from distilpose.models.utils import native_cpu_bf16, set_inference_precision

STUDENT_CFG = config_path('distilpose/synthcoco/distilpose_hrnet-w16-tiny-'
                          '3stage_inference_synthcoco-128x96.py')
STUDENT_CKPT = osp.join(
    ROOT, 'model_zoo', 'synthcoco',
    'distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96.pth')

#: BF16 keeps 8 bits of mantissa (relative error 2^-9 per operation); the
#: keypoints, in units of the person box, move by a few thousandths on
#: average. The bound, 1 % of the box on average, is the pixel at 96 wide.
MEAN_TOL = 0.01


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    """(image path, xyxy boxes) of a few generated images."""
    return person_boxes(
        make_data(str(tmp_path_factory.mktemp('data')), num_train=1,
                  num_val=6))


@pytest.fixture
def student():
    return init_model(STUDENT_CFG, STUDENT_CKPT, device='cpu')


def predict(model, people):
    """Keypoints [N, K, 2] in box units, and scores [N, K]."""
    kpts, scores = [], []
    for path, boxes in people:
        for sample, box in zip(inference_topdown(model, path, boxes), boxes):
            pred = sample.pred_instances
            size = box[2:] - box[:2]
            kpts.append((pred.keypoints[0] - box[:2]) / size)
            scores.append(pred.keypoint_scores[0])
    return np.stack(kpts), np.stack(scores)


def test_bf16_agrees_with_fp32_and_fp32_comes_back(student, people):
    ref, ref_scores = predict(student, people)
    set_inference_precision(student, 'bf16')
    got, scores = predict(student, people)
    assert got.dtype == ref.dtype and scores.dtype == ref_scores.dtype
    diff = np.abs(got - ref)
    print(f'bf16 vs fp32: mean {diff.mean():.4f}, max {diff.max():.4f}')
    assert diff.mean() <= MEAN_TOL, (diff.mean(), diff.max())
    assert not np.array_equal(got, ref)  # bf16 really ran
    set_inference_precision(student, 'fp32')
    back, back_scores = predict(student, people)
    np.testing.assert_array_equal(back, ref)
    np.testing.assert_array_equal(back_scores, ref_scores)


def test_weights_and_state_dict_are_untouched(student):
    before = {k: v.clone() for k, v in student.state_dict().items()}
    set_inference_precision(student, 'bf16')
    after = student.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], v) and after[k].dtype == v.dtype
               for k, v in before.items())


def test_a_bad_precision_is_refused(student):
    with pytest.raises(ValueError, match="precision='fp16'"):
        set_inference_precision(student, 'fp16')
    with pytest.raises(TypeError, match='top-down pose estimator'):
        set_inference_precision(torch.nn.Linear(2, 2))


@pytest.mark.parametrize('native', [False, True, None])
def test_emulated_bf16_is_named_once(student, bf16_host, native):
    """On a CPU without AVX512-BF16 or AMX, BF16 is slower than fp32: the
    switch says so, once per process; with native BF16, or where torch
    cannot tell, it says nothing."""
    bf16_host(native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        set_inference_precision(student, 'bf16')
        set_inference_precision(student, 'bf16', compile=False)
    messages = [str(w.message) for w in caught
                if 'BF16 on this CPU is emulated' in str(w.message)]
    assert len(messages) == (1 if native is False else 0)
    if messages:
        assert 'Use precision fp32' in messages[0]


def test_the_bf16_probe_matches_torch_and_the_machine_line():
    native = native_cpu_bf16()
    assert native in (True, False, None)
    line = machine_name()
    assert f'{os.cpu_count()} cores' in line
    assert torch.backends.cpu.get_cpu_capability() in line
    assert ('BF16 emulated' in line) == (native is False)


# ------------------------------------------- the device of the autocast
def test_the_switch_autocasts_on_the_device_of_a_cpu_model(
        student, people, monkeypatch):
    spy = AutocastSpy()
    set_inference_precision(student, 'bf16')
    monkeypatch.setattr(torch, 'autocast', spy)
    predict(student, people[:1])
    assert spy.calls and set(spy.calls) == {('cpu', torch.bfloat16, True)}


class StandIn(torch.nn.Module):
    """The two functions the switch wraps, returning their input."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Module()
        self.head.forward = lambda feats: feats

    def extract_feat(self, inputs):
        return (inputs, )


def test_the_switch_autocasts_on_a_gpu_for_gpu_inputs(monkeypatch,
                                                      bf16_host):
    """A model switched while on the CPU and then given GPU tensors (moved
    with ``.to('cuda')``) autocasts on 'cuda', not on 'cpu'."""
    bf16_host(True)
    monkeypatch.setattr(bf16_module, 'native_cuda_bf16', lambda: True)
    spy = AutocastSpy(real=False)
    model = set_inference_precision(StandIn(), 'bf16')
    monkeypatch.setattr(torch, 'autocast', spy)
    x = torch.ones(1, 3, 4, 4).as_subclass(FakeCudaTensor)
    feats = model.extract_feat(x)
    model.head.forward(feats)
    assert spy.calls == [('cuda', torch.bfloat16, True)] * 2
    assert feats[0].dtype == torch.float32


def test_an_emulated_gpu_bf16_is_named_once(monkeypatch, bf16_host):
    """On a GPU older than Ampere, BF16 is emulated: the switch says so,
    once, naming the GPU."""
    bf16_host(True)
    monkeypatch.setattr(bf16_module, 'native_cuda_bf16', lambda: False)
    monkeypatch.setattr(bf16_module, '_warned_cuda', False)
    monkeypatch.setattr(torch.cuda, 'get_device_name',
                        lambda *a: 'Tesla V100-SXM2-32GB')
    monkeypatch.setattr(torch, 'autocast', AutocastSpy(real=False))
    model = set_inference_precision(StandIn(), 'bf16')
    x = torch.ones(1, 3, 4, 4).as_subclass(FakeCudaTensor)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(2):
            model.extract_feat(x)
    messages = [str(w.message) for w in caught if 'emulated' in
                str(w.message)]
    assert len(messages) == 1
    assert 'Tesla V100-SXM2-32GB' in messages[0]
    assert 'compute capability 8.0' in messages[0]


@needs_cuda
def test_bf16_on_a_gpu_agrees_with_fp32_and_autocasts_there(people,
                                                            monkeypatch):
    model = init_model(STUDENT_CFG, STUDENT_CKPT, device='cuda')
    ref, _ = predict(model, people)
    set_inference_precision(model, 'bf16')
    spy = AutocastSpy()
    monkeypatch.setattr(torch, 'autocast', spy)
    got, _ = predict(model, people)
    assert set(spy.calls) == {('cuda', torch.bfloat16, True)}
    assert np.abs(got - ref).mean() <= MEAN_TOL
    assert not np.array_equal(got, ref)


@pytest.mark.slow
def test_compiled_bf16_agrees_with_fp32(student, people):
    ref, _ = predict(student, people)
    set_inference_precision(student, 'bf16', compile=True)
    got, _ = predict(student, people)
    assert np.abs(got - ref).mean() <= MEAN_TOL


# ------------------------------------------------------ the config switch
@pytest.fixture(scope='module')
def toy_data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp('toy')), num_train=4,
                     num_val=4)


@pytest.mark.usefixtures('one_thread')
def test_the_hook_applies_test_cfg_precision_and_restores_fp32(
        toy_data, tmp_path):
    """``model.test_cfg.precision='bf16'`` (what ``--cfg-options`` sets):
    the test loop runs in bf16, training after a validation in fp32."""
    cfg = tiny_config('baseline', toy_data, str(tmp_path))
    cfg.model.test_cfg.precision = 'bf16'
    runner = build_runner(cfg)
    runner.train()  # one epoch, then its validation
    model = runner.model
    assert not hasattr(model, '_distilpose_fp32_functions')  # restored
    metrics = runner.test()
    assert 'coco/AP' in metrics
    assert hasattr(model, '_distilpose_fp32_functions')  # bf16 in test
    log = open(runner.logger.log_file).read()
    device = next(model.parameters()).device.type
    # validation and test, on the model's device
    assert log.count(f'inference in bf16 on {device}') == 2


def test_a_bad_precision_in_the_config_stops_before_any_work(toy_data,
                                                             tmp_path):
    cfg = tiny_config('baseline', toy_data, str(tmp_path))
    cfg.model.test_cfg.precision = 'fp16'
    with pytest.raises(ValueError, match="precision='fp16'"):
        build_runner(cfg).train()
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.pth')]
