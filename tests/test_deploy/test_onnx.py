"""ONNX export of DistilPose-S and inference on ONNX Runtime.

The weights are the official parity fixture converted to this project when
``shared/fixtures/parity-A`` exists (trained-like BN statistics, outputs that
depend on the image), random otherwise.
"""
import os
import os.path as osp

import cv2
import numpy as np
import onnx
import pytest
from conftest import PARITY, config_path, load_tool
from mmpose.apis import inference_topdown

from distilpose.convert import convert_official
from distilpose.deploy import (OnnxPoseEstimator, compare_with_pytorch,
                               export_onnx, load_model)

S_CFG = config_path(
    'distilpose/coco/distilpose-s_stemnet_inference_coco-256x192.py')
#: DistilPose-S's training config: the student and its TokenPose teacher.
DISTILLER_CFG = config_path(
    'distilpose/coco/distilpose-s_stemnet_8xb32-300e_coco-256x192.py')
#: Coordinates and scores, normalised units (coords / input size).
ATOL = 1e-4


@pytest.fixture(scope='module')
def student(tmp_path_factory):
    ckpt = None
    src = osp.join(PARITY, 'distilpose_s_official.pth')
    if osp.exists(src):
        ckpt = str(tmp_path_factory.mktemp('ckpt') / 'distilpose_s.pth')
        convert_official(src, ckpt)
    return load_model(S_CFG, ckpt)


@pytest.fixture(scope='module')
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('onnx')


@pytest.fixture(scope='module')
def plain_onnx(student, onnx_dir):
    return export_onnx(student, str(onnx_dir / 'student.onnx'))


@pytest.fixture(scope='module')
def flip_onnx(student, onnx_dir):
    return export_onnx(
        student, str(onnx_dir / 'student_flip.onnx'), flip_test=True)


def assert_outputs_match(student, path, batch_sizes):
    for n, (got, ref) in compare_with_pytorch(student, path,
                                              batch_sizes).items():
        assert got.shape == ref.shape == (n, 17, 5)
        coords = np.abs(got[..., :2] - ref[..., :2]).max()
        scores = np.abs(got[..., 2] - ref[..., 2]).max()
        assert coords <= ATOL and scores <= ATOL, (n, coords, scores)


def test_onnx_runtime_matches_pytorch(student, plain_onnx):
    assert_outputs_match(student, plain_onnx, (1, 3))


def test_flip_test_in_graph_matches_pytorch(student, flip_onnx):
    assert_outputs_match(student, flip_onnx, (2, ))


def test_only_batch_is_dynamic(plain_onnx):
    graph = onnx.load(plain_onnx).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch'
    assert [d.dim_value for d in dims[1:]] == [3, 256, 192]
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    names = {init.name for init in graph.initializer}
    assert not any('teacher' in name for name in names)


def synthetic_image():
    """Smooth blobs: structured enough for the crops to differ per box."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    return cv2.resize(small, (400, 300), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize('source', ['array', 'file'])
def test_end_to_end_matches_inference_topdown(student, flip_onnx, source,
                                              tmp_path):
    """Boxes on an array; the whole image (no boxes) from a file."""
    img, boxes = synthetic_image(), None
    if source == 'file':
        path = str(tmp_path / 'img.png')
        cv2.imwrite(path, img)
        img = path
    else:
        boxes = np.array([[10, 20, 200, 280], [150, 30, 390, 290]],
                         np.float32)
    # The inference config tests with flip, so the flip graph is its match.
    assert student.test_cfg['flip_test']
    keypoints, scores = OnnxPoseEstimator(flip_onnx)(img, boxes)
    ref = inference_topdown(student, img, boxes)
    ref_kpts = np.concatenate([r.pred_instances.keypoints for r in ref])
    ref_scores = np.concatenate(
        [r.pred_instances.keypoint_scores for r in ref])
    scales = np.stack([r.metainfo['input_scale'] for r in ref])
    # ATOL in normalised units is at most ATOL * crop size in pixels.
    tol_px = ATOL * scales.max()
    assert keypoints.shape == ref_kpts.shape == (len(ref), 17, 2)
    assert np.abs(keypoints - ref_kpts).max() <= tol_px
    assert np.abs(scores - ref_scores).max() <= ATOL


@pytest.mark.parametrize('dynamic', [('batch', 'height', 'width'),
                                     ('height', )])
def test_dynamic_spatial_size_is_refused(student, tmp_path, dynamic):
    path = tmp_path / 'bad.onnx'
    with pytest.raises(ValueError) as err:
        export_onnx(student, str(path), dynamic=dynamic)
    msg = str(err.value)
    assert 'only the batch dimension' in msg
    assert 'positional embedding' in msg and '192x256' in msg
    assert 'TopdownAffine' in msg and 'input_size' in msg
    assert os.listdir(tmp_path) == []


def test_a_distillation_config_is_refused(tmp_path, capsys):
    """Before the model is built, by the OpenVINO export's own check,
    naming the inference config to export; nothing is written."""
    out = tmp_path / 'student.onnx'
    assert load_tool('export_onnx').main(
        [DISTILLER_CFG, str(out), '--random-weights', '--int8',
         '--calib-data', str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(
        f'error: {DISTILLER_CFG} is a distillation (training) config: its '
        'model is DistilPoseDistiller, the student together with its '
        f'teacher. Export the student from its inference config ({S_CFG})')
    assert os.listdir(tmp_path) == []


def test_a_distiller_model_is_refused(tmp_path):
    """The library call too, before anything is traced or written."""
    from distilpose.models.distillers import DistilPoseDistiller
    distiller = DistilPoseDistiller.__new__(DistilPoseDistiller)
    with pytest.raises(ValueError) as err:
        export_onnx(distiller, str(tmp_path / 'student.onnx'))
    assert str(err.value) == (
        'The model is a DistilPoseDistiller (student and teacher): build the '
        'student from its inference config and export that.')
    assert os.listdir(tmp_path) == []


def test_cli_export_and_demo(plain_onnx, tmp_path, capsys):
    out = str(tmp_path / 's.onnx')
    rc = load_tool('export_onnx').main(
        [S_CFG, out, '--random-weights', '--verify-batch-sizes', '2'])
    assert rc == 0 and osp.exists(out)
    assert 'batch 2: max |ONNX Runtime - PyTorch|' in capsys.readouterr().out

    img = str(tmp_path / 'img.png')
    cv2.imwrite(img, synthetic_image())
    png = str(tmp_path / 'pose.png')
    load_tool('onnx_demo').main([
        plain_onnx, img, '--bbox', '10', '20', '200', '280', '--draw', png,
        '--score-thr=-inf'
    ])
    printed = capsys.readouterr().out
    assert 'person 0:' in printed and 'left_shoulder' in printed
    assert cv2.imread(png).shape == (300, 400, 3)


@pytest.mark.parametrize('content,error', [
    (None, 'Image not found: {img}'),
    (b'', 'The image {img} is empty (0 bytes).'),
    (b'\xff\xd8\xff\xe0 cut', 'The image {img} is not a decodable image '
     '(corrupt or another format).'),
])
def test_demo_names_an_image_it_cannot_read(plain_onnx, tmp_path, capsys,
                                            content, error):
    img = tmp_path / 'person.jpg'
    if content is not None:
        img.write_bytes(content)
    rc = load_tool('onnx_demo').main([plain_onnx, str(img), '--draw',
                                      str(tmp_path / 'pose.png')])
    assert rc == 2
    assert capsys.readouterr().err.strip() == 'error: ' + error.format(
        img=img)
    assert os.listdir(tmp_path) == ([] if content is None else
                                    ['person.jpg'])  # no drawing


def test_demo_checks_the_drawing_path_first(tmp_path, capsys):
    """Before the model is read (here it does not even exist)."""
    notes = tmp_path / 'notes.txt'
    notes.write_text('')
    demo = load_tool('onnx_demo')
    xyz = tmp_path / 'pose.xyz'
    for draw, expected in [
        (tmp_path, f'Cannot write the drawing to {tmp_path}: it is a '
         'folder'),
        (notes / 'pose.png', 'Cannot write to the folder of the drawing '
         f'{notes}: it is a file, not a folder'),
        (xyz, f'Cannot write the drawing to {xyz}: OpenCV has no encoder'),
    ]:
        rc = demo.main([str(tmp_path / 'missing.onnx'), 'img.jpg',
                        '--draw', str(draw)])
        error = capsys.readouterr().err
        assert rc == 2 and expected in error, error
    assert sorted(os.listdir(tmp_path)) == ['notes.txt']
