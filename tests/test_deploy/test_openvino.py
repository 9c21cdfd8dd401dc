"""OpenVINO IR export and inference of the demo student (128x96, so every
export takes seconds): the IR carries the ONNX export's metadata and
computes what PyTorch does, NNCF INT8 calibrated on generated crops
agrees with FP32, and bad inputs are refused with nothing written."""
import importlib.util
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from conftest import ROOT, config_path, load_tool, person_boxes
from mmpose.apis import inference_topdown
from synthetic_coco import generate_dataset

from distilpose.deploy import (INT8_FLOAT_OPS, MIN_CALIB_CROPS,
                               OpenVinoPoseEstimator, calibration_for,
                               compare_ir_with_pytorch, export_openvino,
                               load_model, openvino_module, openvino_runtime,
                               quantize_openvino, read_ir, save_ir,
                               topdown_metadata)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('openvino') is None
    or importlib.util.find_spec('nncf') is None,
    reason='OpenVINO / NNCF are not installed (pip install -r '
    'requirements.txt installs the pinned openvino and nncf)')

STUDENT = 'distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-128x96'
STUDENT_CFG = config_path('distilpose/synthcoco/distilpose_hrnet-w16-tiny-'
                          '3stage_inference_synthcoco-128x96.py')
STUDENT_CKPT = osp.join(ROOT, 'model_zoo', 'synthcoco', f'{STUDENT}.pth')
DISTILLER_CFG = config_path(
    'distilpose/synthcoco/distilpose_hrnet-w16-tiny-3stage_td-hm-hrnet-w16-'
    'tiny-teacher_1xb16-8e_synthcoco-128x96.py')
#: FP32 on OpenVINO vs PyTorch, normalised units (coords / input size).
ATOL = 1e-4
#: INT8 vs FP32, keypoints in crop widths/heights. Measured here (the
#: trained student calibrated on 24 generated images): mean 0.005, max
#: 0.03; the bounds leave 2-3x (an ambiguous joint may move between nearby
#: peaks).
MEAN_TOL, MAX_TOL = 0.01, 0.1


@pytest.fixture(scope='module')
def student():
    """Random weights: the export and the estimator, not the accuracy."""
    return load_model(STUDENT_CFG)


@pytest.fixture(scope='module')
def ir(student, tmp_path_factory):
    return export_openvino(
        student, str(tmp_path_factory.mktemp('ir') / 'student.xml'))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synth'))
    generate_dataset(root, num_train_images=24, num_val_images=8, seed=3,
                     workers=0, progress=False)
    return root


def synthetic_image():
    """Smooth blobs: structured enough for the crops to differ per box."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    return cv2.resize(small, (400, 300), interpolation=cv2.INTER_CUBIC)


def test_export_writes_an_ir_pair_with_the_onnx_metadata(student, ir):
    assert sorted(os.listdir(osp.dirname(ir))) == ['student.bin',
                                                   'student.xml']
    model, meta = read_ir(ir)
    assert meta == dict(topdown_metadata(student), fused_attention=0)
    assert meta['keypoint_names'][0] == 'nose'
    assert meta['codec']['type'] == 'RegressionLabel'
    assert not any('teacher' in op.get_friendly_name()
                   for op in model.get_ops())
    assert str(model.inputs[0].get_partial_shape()) == '[?,3,128,96]'
    for n, (got, ref) in compare_ir_with_pytorch(student, ir,
                                                 (1, 3)).items():
        assert got.shape == ref.shape == (n, 17, 5)
        assert np.abs(got - ref).max() <= ATOL


@pytest.mark.parametrize('precision,tol', [('f32', ATOL), ('bf16', 0.02)])
def test_estimator_matches_inference_topdown(student, ir, precision, tol):
    """Boxes on an array; keypoints within ``tol`` of the crop size (BF16:
    8 mantissa bits through the network)."""
    if precision == 'bf16' and 'BF16' not in \
            openvino_runtime.cpu_capabilities():
        pytest.skip('this CPU has no BF16 (AVX512-BF16 / AMX)')
    img = synthetic_image()
    boxes = np.array([[10, 20, 200, 280], [150, 30, 390, 290]], np.float32)
    keypoints, scores = OpenVinoPoseEstimator(ir, 1, precision)(img, boxes)
    ref = inference_topdown(student, img, boxes)
    ref_kpts = np.concatenate([r.pred_instances.keypoints for r in ref])
    ref_scores = np.concatenate(
        [r.pred_instances.keypoint_scores for r in ref])
    scales = np.stack([r.metainfo['input_scale'] for r in ref])
    assert keypoints.shape == ref_kpts.shape == (2, 17, 2)
    assert np.abs(keypoints - ref_kpts).max() <= tol * scales.max()
    assert np.abs(scores - ref_scores).max() <= tol


def test_a_static_batch_runs_any_number_of_boxes_in_chunks(ir):
    """Three boxes through a model compiled for batch 2 (one full chunk,
    one padded): the keypoints of the dynamic batch, and the IR itself
    keeps its dynamic batch."""
    img = synthetic_image()
    boxes = np.array([[10, 20, 200, 280], [150, 30, 390, 290],
                      [40, 10, 300, 200]], np.float32)
    dynamic = OpenVinoPoseEstimator(ir, 1)
    static = OpenVinoPoseEstimator(ir, 1, batch_size=2)
    assert static.session.batch_size == 2
    assert dynamic.session.batch_size is None
    for got, ref in zip(static(img, boxes), dynamic(img, boxes)):
        assert got.shape == ref.shape and got.shape[0] == 3
        assert np.abs(got - ref).max() <= 1e-4
    model, _ = read_ir(ir)
    compiled = openvino_runtime.compile_ir(model, batch_size=1)
    assert str(compiled.input(0).get_partial_shape()) == '[1,3,128,96]'
    assert str(model.input(0).get_partial_shape()) == '[?,3,128,96]'


@pytest.mark.parametrize('batch_size', [0, -1, 1.5, True])
def test_a_bad_static_batch_is_refused(ir, batch_size):
    with pytest.raises(ValueError, match=r'batch_size=.*positive integer'):
        OpenVinoPoseEstimator(ir, batch_size=batch_size)


def test_bf16_is_refused_on_a_cpu_without_it(ir, monkeypatch, tmp_path,
                                             capsys):
    monkeypatch.setattr(openvino_runtime, 'cpu_capabilities',
                        lambda: ['FP32', 'INT8', 'EXPORT_IMPORT'])
    with pytest.raises(ValueError) as err:
        OpenVinoPoseEstimator(ir, precision='bf16')
    assert str(err.value) == (
        'BF16 inference needs a CPU with AVX512-BF16 or AMX; OpenVINO '
        "reports this CPU's capabilities as FP32, INT8, EXPORT_IMPORT (no "
        'BF16). Use precision="f32" (or the INT8 IR for speed).')
    assert load_tool('eval_onnx').main(
        [ir, '--data', str(tmp_path), '--precision', 'f32', 'bf16']) == 2
    assert 'BF16 inference needs a CPU' in capsys.readouterr().err


def test_int8_export_agrees_with_fp32_on_unseen_images(data, tmp_path,
                                                       capsys):
    """The tool on the trained student, calibrated on a tiny generated
    train set; end to end on val images calibration never saw."""
    fp32 = str(tmp_path / 'student.xml')
    assert load_tool('export_openvino').main([
        STUDENT_CFG, fp32, '--checkpoint', STUDENT_CKPT, '--int8',
        '--calib-data', data, '--verify-batch-sizes', '2'
    ]) == 0
    printed = capsys.readouterr().out
    assert 'batch 2: max |OpenVINO FP32 - PyTorch|' in printed
    assert 'NNCF INT8, transformer scheme, float: MVN, Add' in printed
    assert sorted(os.listdir(tmp_path)) == [
        'student.bin', 'student.int8.bin', 'student.int8.xml',
        'student.xml'
    ]
    int8_path = str(tmp_path / 'student.int8.xml')
    int8, meta = read_ir(int8_path)
    assert meta['precision'] == 'int8'
    assert meta['int8']['float_ops'] == list(INT8_FLOAT_OPS)
    assert MIN_CALIB_CROPS <= meta['calib_crops'] <= 64
    assert any(op.get_type_name() == 'FakeQuantize' for op in int8.get_ops())
    ref_model = OpenVinoPoseEstimator(fp32, 1)
    int8_model = OpenVinoPoseEstimator(int8_path, 1)
    diffs = []
    for path, boxes in person_boxes(data):
        ref, _ = ref_model(path, boxes)
        got, _ = int8_model(path, boxes)
        _, _, scales = ref_model.preprocess(ref_model.load_image(path), boxes)
        diffs.append(np.abs(got - ref) / scales[:, None])
    diffs = np.concatenate(diffs)
    print(f'OpenVINO INT8 vs FP32: mean {diffs.mean():.4f}, '
          f'max {diffs.max():.4f}')
    assert len(diffs) >= 8
    assert diffs.mean() <= MEAN_TOL and diffs.max() <= MAX_TOL


def test_a_distillation_config_is_refused(tmp_path, capsys):
    out = tmp_path / 'student.xml'
    assert load_tool('export_openvino').main(
        [DISTILLER_CFG, str(out), '--random-weights']) == 2
    error = capsys.readouterr().err
    assert f'error: {DISTILLER_CFG} is a distillation (training) config: ' \
        'its model is DistilPoseDistiller, the student together with its ' \
        'teacher. Export the student from its inference config (' in error
    assert 'distilpose_hrnet-w16-tiny-3stage_inference_synthcoco' in error
    assert os.listdir(tmp_path) == []


def test_a_distiller_model_is_refused(tmp_path):
    """The library call too (the tool refuses the config first)."""
    from distilpose.models.distillers import DistilPoseDistiller
    distiller = DistilPoseDistiller.__new__(DistilPoseDistiller)
    with pytest.raises(ValueError) as err:
        export_openvino(distiller, str(tmp_path / 'student.xml'))
    assert str(err.value) == (
        'The model is a DistilPoseDistiller (student and teacher): build the '
        'student from its inference config and export that.')
    assert os.listdir(tmp_path) == []


def test_too_little_calibration_data_is_refused(tmp_path, capsys):
    """Checked before anything is written: no FP32 IR either."""
    few = str(tmp_path / 'few')
    generate_dataset(few, num_train_images=3, num_val_images=0, seed=5,
                     workers=0, progress=False)
    tool = load_tool('export_openvino')
    out = tmp_path / 'out' / 'student.xml'
    assert tool.main([STUDENT_CFG, str(out), '--random-weights', '--int8',
                      '--calib-data', few]) == 2
    error = capsys.readouterr().err
    assert f'Calibration data {few} holds' in error
    assert f'INT8 calibration needs at least {MIN_CALIB_CROPS}' in error
    assert tool.main([STUDENT_CFG, str(out), '--random-weights', '--int8',
                      '--calib-data', str(tmp_path / 'nowhere')]) == 2
    assert 'Calibration data not found: ' in capsys.readouterr().err
    assert not out.parent.exists()


def test_quantize_refuses_too_few_crops(ir, tmp_path):
    out = tmp_path / 'int8.xml'
    with pytest.raises(ValueError, match=f'at least {MIN_CALIB_CROPS}'):
        quantize_openvino(ir, str(out), np.zeros((4, 3, 128, 96), np.float32))
    assert os.listdir(tmp_path) == []


def test_an_unwritable_output_is_refused_before_any_work(tmp_path, capsys):
    notes = tmp_path / 'notes.txt'
    notes.write_text('')
    (tmp_path / 'ir.xml').mkdir()
    tool = load_tool('export_openvino')
    for out, expected in [
        (notes / 'student.xml', f'{notes} is a file, not a folder'),
        (tmp_path / 'student.onnx', 'give a path ending in .xml'),
        (tmp_path / 'ir.xml', 'it is a folder'),
    ]:
        assert tool.main([STUDENT_CFG, str(out), '--random-weights']) == 2
        error = capsys.readouterr().err
        assert 'Cannot write' in error and expected in error, error
    assert sorted(os.listdir(tmp_path)) == ['ir.xml', 'notes.txt']
    assert os.listdir(tmp_path / 'ir.xml') == []


def test_a_failed_write_leaves_no_partial_ir(ir, tmp_path, monkeypatch):
    """An error while saving (here: after the .bin was written) leaves an
    earlier IR of that name as it was and no temporary file."""
    out = str(tmp_path / 'student.xml')
    save_ir(read_ir(ir)[0], out)
    before = {f: (tmp_path / f).read_bytes() for f in os.listdir(tmp_path)}
    ov = openvino_module()
    real_save = ov.save_model

    def fail_after_writing(model, path, **kwargs):
        real_save(model, path, **kwargs)
        raise RuntimeError('Exception from src/core/src/pass/serialize.cpp: '
                           "Can't open bin file")

    monkeypatch.setattr(ov, 'save_model', fail_after_writing)
    with pytest.raises(OSError) as err:
        save_ir(read_ir(ir)[0], out)
    assert f'Cannot write the OpenVINO IR {out}' in str(err.value)
    assert 'Nothing was written under that name' in str(err.value)
    assert {f: (tmp_path / f).read_bytes()
            for f in os.listdir(tmp_path)} == before


def test_an_ir_without_its_bin_or_metadata_is_named(ir, tmp_path):
    lone = tmp_path / 'lone.xml'
    lone.write_bytes(open(ir, 'rb').read())
    with pytest.raises(FileNotFoundError) as err:
        OpenVinoPoseEstimator(str(lone))
    assert str(err.value) == (
        f'OpenVINO IR file not found: {tmp_path / "lone.bin"} (an IR is an '
        '.xml and a .bin of the same name, side by side).')
    ov = openvino_module()
    from openvino import opset13 as ops
    param = ops.parameter([1, 3, 128, 96], np.float32, name='input')
    bare = str(tmp_path / 'bare.xml')
    ov.save_model(ov.Model([ops.relu(param)], [param]), bare)
    with pytest.raises(ValueError) as err:
        OpenVinoPoseEstimator(bare)
    assert str(err.value) == (
        f"{bare} has no 'distilpose.topdown' metadata in its rt_info: "
        'export it with tools/export_openvino.py '
        '(distilpose.deploy.export_openvino).')


def test_openvino_telemetry_is_off():
    """OpenVINO and NNCF fall back to their no-op telemetry stubs."""
    openvino_module()
    assert 'openvino_telemetry' in sys.modules
    assert sys.modules['openvino_telemetry'] is None


def test_calibration_for_reads_the_crops_from_the_metadata(student, data):
    crops = calibration_for(topdown_metadata(student), data, 20)
    assert crops.shape == (20, 3, 128, 96) and crops.dtype == np.float32
