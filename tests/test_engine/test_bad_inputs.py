"""Bad inputs through MMEngine's runner, as ``mim train`` meets them:
each stops with a message that says what is wrong and how to fix it, and
leaves no checkpoint behind (an annotation file that is not JSON
included); bad images and boxes in inference are skipped with a warning,
an output folder that cannot be written is an error before any work, and
no partial picture is left.

The model-level messages (teacher checkpoint, keypoint counts, patch
grid) are also tested in test_distiller.py and test_token_encoder.py, the
converter's in test_convert.py.
"""
import functools
import glob
import http.server
import json
import os
import os.path as osp
import pathlib
import re
import shutil
import socket
import threading
import time
import uuid
import warnings

import cv2
import numpy as np
import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, coco_dataset_info, make_data,
                          save_teacher, tiny_config, without_keypoint,
                          write_dataset_info)
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import CheckpointLoader
from mmpose.registry import MODELS

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose import checkpoint, download
from distilpose.apis import SkippedInputWarning, inference_images
from distilpose.download import NoNetworkError

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp('data')))


def assert_stops_without_output(cfg, error, *phrases, mode='train'):
    """Run ``mode`` of ``cfg``; it must raise ``error`` containing every
    phrase and leave no checkpoint (nor ``last_checkpoint``) behind."""
    with pytest.raises(error) as err:
        getattr(build_runner(cfg), mode)()
    for phrase in phrases:
        assert phrase in str(err.value), str(err.value)
    left = glob.glob(osp.join(cfg.work_dir, '**', '*.pth'), recursive=True)
    assert not left and not osp.exists(
        osp.join(cfg.work_dir, 'last_checkpoint'))


def student_cfg(data, tmp_path, teacher_ckpt, **teacher_changes):
    cfg = tiny_config('student', data, str(tmp_path / 'work'),
                      teacher_ckpt=teacher_ckpt)
    cfg.model.teacher_cfg.update(teacher_changes)
    return cfg


# ------------------------------------- teacher and model via the runner
def test_a_missing_teacher_checkpoint_is_named(data, tmp_path):
    cfg = student_cfg(data, tmp_path, str(tmp_path / 'missing.pth'))
    assert_stops_without_output(cfg, FileNotFoundError,
                                'teacher checkpoint', 'does not exist',
                                'model.teacher_ckpt=')


def test_a_teacher_checkpoint_of_another_architecture_is_named(data, tmp_path):
    baseline = tiny_config('baseline', data, str(tmp_path))
    init_default_scope('mmpose')
    path = str(tmp_path / 'baseline.pth')
    torch.save(dict(state_dict=MODELS.build(baseline.model).state_dict()),
               path)
    cfg = student_cfg(data, tmp_path, path)
    assert_stops_without_output(cfg, ValueError, 'does not match',
                                'missing keys',
                                'unexpected keys (4): head.fc',
                                'Check that the checkpoint was trained')


def test_a_teacher_with_another_keypoint_count_is_refused(data, tmp_path):
    ckpt = save_teacher(data, str(tmp_path / 't16.pth'), num_keypoints=16)
    cfg = student_cfg(data, tmp_path, ckpt)
    cfg.model.teacher_cfg.neck.num_keypoints = 16
    cfg.model.teacher_cfg.head.out_channels = 16
    assert_stops_without_output(cfg, ValueError,
                                'predicts 17 keypoints and the teacher '
                                'head 16')


def test_a_feature_map_not_divisible_into_patches_is_refused(data, tmp_path):
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'))
    cfg.model.neck.patch_size = (5, 4)
    assert_stops_without_output(cfg, ValueError, 'does not divide into',
                                'patch_size')


def test_an_input_size_other_than_the_embedding_grid_is_refused(
        data, tmp_path):
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'))
    cfg.model.neck.input_size = (96, 112)  # the data is 96x128
    assert_stops_without_output(cfg, ValueError, 'built for a 24x28',
                                'got 24x32', 'input size of the data')


# ---------------------------------------------------- keypoint layouts
@pytest.mark.parametrize('mode', ['train', 'test'])
def test_a_dataset_with_another_keypoint_count_is_refused(
        data, tmp_path, mode):
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'),
                      num_keypoints=16)
    assert_stops_without_output(
        cfg, ValueError, f'The {mode} dataset has 17 keypoints',
        'model.neck.num_keypoints=16', 'model.head.num_joints=16',
        'Set num_keypoints', 'metainfo=dict(from_file=', mode=mode)


def test_annotations_with_another_keypoint_count_are_refused(data, tmp_path):
    """A 16-keypoint metainfo and model on 17-keypoint annotations."""
    info = without_keypoint(coco_dataset_info(), 'nose')
    meta = write_dataset_info(info, str(tmp_path / 'meta16.py'))
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'),
                      num_keypoints=16, metainfo=meta)
    assert_stops_without_output(cfg, ValueError,
                                'annotations of the train dataset have 17',
                                'metainfo has 16')


def test_one_annotation_with_another_keypoint_count_is_refused(data, tmp_path):
    """One malformed annotation, not the first: named (its id and image),
    with advice about the annotation, not the metainfo."""
    root = str(tmp_path / 'data')
    shutil.copytree(data, root)
    path = osp.join(root, 'annotations', 'person_keypoints_train.json')
    with open(path) as f:
        coco = json.load(f)
    bad = coco['annotations'][3]
    bad['keypoints'] = bad['keypoints'][:-3]
    with open(path, 'w') as f:
        json.dump(coco, f)
    cfg = tiny_config('baseline', root, str(tmp_path / 'work'))
    assert_stops_without_output(
        cfg, ValueError, '1 of the', 'annotations of the train dataset',
        f"annotation id {bad['id']}", ': 16', 'Fix or remove')


@pytest.mark.parametrize('content', [b'{"images": [',  # cut short
                                     b'\xff\xd8\xff\xe0 a JPEG'])
def test_an_annotation_file_that_is_not_json_is_named(data, tmp_path,
                                                      content):
    root = str(tmp_path / 'data')
    shutil.copytree(data, root)
    path = osp.join(root, 'annotations', 'person_keypoints_train.json')
    with open(path, 'wb') as f:
        f.write(content)
    cfg = tiny_config('baseline', root, str(tmp_path / 'work'))
    assert_stops_without_output(
        cfg, ValueError, f'The annotation file {path} is not valid JSON',
        'Regenerate or re-download it')


def _broken_sigmas(info):
    info['sigmas'] = info['sigmas'][:-1]


def _one_sided_swap(info):
    info['keypoint_info'][2]['swap'] = ''  # right_eye; left_eye still swaps


@pytest.mark.parametrize('breakage,phrases', [
    (_broken_sigmas, ("16 entries in 'sigmas' but 17 keypoints",
                      "Fix 'sigmas'")),
    (_one_sided_swap, ("keypoint 'left_eye' swaps with 'right_eye', which "
                       "swaps with 'right_eye'", "'swap'")),
])
def test_metainfo_that_does_not_fit_its_keypoints_is_refused(
        data, tmp_path, breakage, phrases):
    info = coco_dataset_info()
    breakage(info)
    meta = write_dataset_info(info, str(tmp_path / 'meta.py'))
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'),
                      metainfo=meta)
    assert_stops_without_output(cfg, ValueError, *phrases)


# ----------------------------------------------------------- inference
@pytest.fixture(scope='module')
def model(tmp_path_factory):
    """The toy baseline with random weights (no data needed)."""
    from mmpose.apis import init_model
    folder = str(tmp_path_factory.mktemp('m'))
    return init_model(tiny_config('baseline', folder, folder), None,
                      device='cpu')


def val_images(data, n):
    folder = osp.join(data, 'val')
    return [osp.join(folder, f) for f in sorted(os.listdir(folder))[:n]]


def skipped(record):
    return [str(w.message) for w in record
            if issubclass(w.category, SkippedInputWarning)]


def test_unreadable_images_are_skipped_and_the_rest_completes(
        data, model, tmp_path):
    good = val_images(data, 2)
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    images = [good[0], str(corrupt), str(tmp_path / 'missing.jpg'),
              np.zeros((4, 4), np.float32), str(empty), good[1]]
    out_dir = tmp_path / 'vis'
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        results = inference_images(model, images, out_dir=str(out_dir))
    messages = skipped(record)
    assert len(messages) == 4
    assert 'corrupt.jpg) skipped: the file is not a decodable image' \
        in messages[0]
    assert 'missing.jpg) skipped: cannot be read' in messages[1]
    assert 'image 3 skipped: expected a BGR uint8 HxWx3 array' in messages[2]
    assert 'empty.jpg) skipped: the file is empty (0 bytes)' in messages[3]
    assert [r is None for r in results] == [
        False, True, True, True, True, False]
    for result in (results[0], results[5]):
        kpts = result.pred_instances.keypoints
        assert kpts.shape == (1, 17, 2) and np.isfinite(kpts).all()
    # Drawings of the good images only: nothing partial for the bad ones.
    assert sorted(os.listdir(out_dir)) == sorted(
        osp.splitext(osp.basename(p))[0] + '.png' for p in good)


def unwritable_dir(tmp_path, case: str):
    """A folder path that cannot be written: a file, a path under a file,
    or a read-only folder (root ignores the mode: skipped)."""
    file = tmp_path / 'notes.txt'
    file.write_text('')
    if case == 'read-only':
        if os.geteuid() == 0:
            pytest.skip('root writes into read-only folders')
        (tmp_path / 'read_only').mkdir(mode=0o555)
        return tmp_path / 'read_only'
    return file if case == 'a file' else file / 'vis'


@pytest.mark.parametrize('case', ['a file', 'under a file', 'read-only'])
def test_an_out_dir_that_cannot_be_written_fails_before_any_work(
        data, tmp_path, case):
    out_dir = unwritable_dir(tmp_path, case)
    # A config that does not exist: the model would fail, were it built.
    with pytest.raises(OSError, match=re.escape(
            f'Cannot write to out_dir {out_dir}: ')):
        inference_images(str(tmp_path / 'no_config.py'),
                         val_images(data, 1), out_dir=str(out_dir))


def test_pictures_are_written_whole_or_not_at_all(data, model, tmp_path,
                                                  monkeypatch):
    first, second = val_images(data, 2)
    out_dir = tmp_path / 'vis'
    inference_images(model, [first], out_dir=str(out_dir))

    def killed(fd):  # the process dies after the bytes, before the rename
        raise KeyboardInterrupt
    monkeypatch.setattr(checkpoint.os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        inference_images(model, [second], out_dir=str(out_dir))
    # Neither a partial picture of the second image nor its temporary.
    assert os.listdir(out_dir) == [
        osp.splitext(osp.basename(first))[0] + '.png']


def test_degenerate_boxes_are_skipped(data, model):
    image = val_images(data, 1)[0]
    boxes = [[10, 10, 60, 100],  # fine
             [np.nan, 0, 50, 50], [10, 10, 10, 50], [60, 100, 10, 10],
             [200, 200, 300, 300], [-50, -50, -1, 40]]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        results = inference_images(model, [image, image], [boxes, []])
    messages = skipped(record)
    assert len(messages) == 5
    assert 'Box 1 (xyxy [nan, 0, 50, 50])' in messages[0] and \
        'it has a non-finite coordinate' in messages[0]
    for i in (2, 3):
        assert f'Box {i}' in messages[i - 1] and 'it is empty or inverted '\
            "(x2 <= x1 or y2 <= y1; give [x, y, w, h] boxes with " \
            "bbox_format='xywh')" in messages[i - 1]
    for i in (4, 5):
        assert f'Box {i}' in messages[i - 1] and 'pixels of the 128x128 ' \
            'image (it lies outside)' in messages[i - 1]
    kept = results[0].pred_instances
    assert np.allclose(kept.bboxes, [[10, 10, 60, 100]])
    assert kept.keypoints.shape == (1, 17, 2)
    assert np.isfinite(kept.keypoints).all()
    # An empty box list means nobody, not MMPose's whole-image fallback.
    assert results[1].pred_instances.keypoints.shape == (0, 17, 2)


def blank_image(path, width, height) -> str:
    cv2.imwrite(str(path), np.full((height, width, 3), 128, np.uint8))
    return str(path)


def test_images_too_small_for_a_pose_are_skipped(model, tmp_path):
    """A 1x1 image gave 17 made-up keypoints."""
    good = blank_image(tmp_path / 'good.png', 48, 64)
    thin = blank_image(tmp_path / 'thin.png', 40, 7)
    images = [np.zeros((1, 1, 3), np.uint8), thin, good,
              np.zeros((8, 8, 3), np.uint8)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        results = inference_images(model, images)
    assert skipped(record) == [
        'image 0 skipped: it is 1x1 pixels, under the 8x8 that a pose can '
        'be found in (the keypoints would be made up).',
        f'image 1 ({thin}) skipped: it is 40x7 pixels, under the 8x8 that '
        'a pose can be found in (the keypoints would be made up).']
    assert [r is None for r in results] == [True, True, False, False]
    assert results[2].pred_instances.keypoints.shape == (1, 17, 2)


def test_malformed_boxes_are_skipped_with_the_reason(model, tmp_path):
    """A box of 3 numbers raised a numpy reshape error."""
    image = blank_image(tmp_path / 'person.png', 48, 64)
    boxes = [[1, 2, 3], [5, 5, 40, 60], [1, 2, 3, 4, 5], ['a', 1, 2, 3],
             [1, 2, float('inf'), 4], None]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        results = inference_images(model, [image, image, image],
                                   [boxes, [1, 2, 3], [[5, 5, 30, 0]]],
                                   bbox_format='xywh')
    name = f'image 0 ({image})'
    assert skipped(record) == [
        f'Box 0 (xywh [1, 2, 3]) of {name} skipped: it has 3 values, not 4.',
        f'Box 2 (xywh [1, 2, 3, 4, 5]) of {name} skipped: it has 5 values, '
        'not 4.',
        f"Box 3 (xywh ['a', 1, 2, 3]) of {name} skipped: it has a value "
        'that is not a number.',
        f'Box 4 (xywh [1, 2, inf, 4]) of {name} skipped: it has a '
        'non-finite coordinate.',
        f'Box 5 (xywh None) of {name} skipped: it is not a list of 4 '
        'numbers.',
        f'Box 0 (xywh [1, 2, 3]) of image 1 ({image}) skipped: it has 3 '
        'values, not 4.',
        f'Box 0 (xywh [5, 5, 30, 0]) of image 2 ({image}) skipped: it is '
        'empty or inverted (w or h <= 0).']
    assert np.allclose(results[0].pred_instances.bboxes, [[5, 5, 45, 65]])
    for result in results[1:]:
        assert result.pred_instances.keypoints.shape == (0, 17, 2)


@pytest.mark.parametrize('as_path', [str, pathlib.Path])
def test_a_single_path_is_one_image(model, tmp_path, as_path):
    """A string was read character by character, one warning each."""
    image = as_path(blank_image(tmp_path / 'one_person.png', 48, 64))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        whole, = inference_images(model, image)
        boxed, = inference_images(model, image, [[5, 5, 40, 60],
                                                 [0, 0, 20, 30]])
    assert skipped(record) == []
    assert np.allclose(whole.pred_instances.bboxes, [[0, 0, 48, 64]])
    assert np.allclose(boxed.pred_instances.bboxes,
                       [[5, 5, 40, 60], [0, 0, 20, 30]])


def test_inference_through_mmpose_inferencer(data, tmp_path):
    """The API accepts an ``MMPoseInferencer`` (the demo's entry point)."""
    from mmpose.apis import MMPoseInferencer
    cfg = tiny_config('baseline', data, str(tmp_path))
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    init_default_scope('mmpose')
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=ckpt,
                                  det_model='whole_image', device='cpu')
    image = val_images(data, 1)[0]
    results = inference_images(inferencer, [image, image],
                               [None, [[10, 10, 60, 100]]],
                               out_dir=str(tmp_path / 'vis'))
    assert np.allclose(results[0].pred_instances.bboxes, [[0, 0, 128, 128]])
    assert np.allclose(results[1].pred_instances.bboxes, [[10, 10, 60, 100]])
    stem = osp.splitext(osp.basename(image))[0]
    assert sorted(os.listdir(tmp_path / 'vis')) == [f'{stem}.png',
                                                    f'{stem}_1.png']


# ------------------------------------------------------ pretrained URLs
def test_a_pretrained_url_without_network_fails_fast(data, tmp_path,
                                                     monkeypatch):
    monkeypatch.setattr(download, 'PROBE_TIMEOUT_S', 2.0)
    for proxy in ('http_proxy', 'HTTP_PROXY'):
        monkeypatch.delenv(proxy, raising=False)
    url = f'http://192.0.2.1/pretrained-{uuid.uuid4().hex}.pth'  # TEST-NET
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=url)
    start = time.monotonic()
    assert_stops_without_output(cfg, NoNetworkError,
                                f'Cannot download the checkpoint {url}',
                                'Download it on a machine with network',
                                'init_cfg.checkpoint=<file>')
    assert time.monotonic() - start < 20


def test_the_network_probe_goes_through_a_configured_proxy(monkeypatch):
    """Clusters reach the internet through proxies: the probe must ask
    the proxy (here a closed local port), not the host itself."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]  # closed once the block ends
    monkeypatch.setenv('https_proxy', f'http://127.0.0.1:{port}')
    monkeypatch.delenv('no_proxy', raising=False)
    monkeypatch.delenv('NO_PROXY', raising=False)
    reason = download.unreachable('https://example.com/w.pth', 2)
    assert f'cannot connect to the https proxy 127.0.0.1:{port}' in reason


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


def test_url_checkpoints_still_load_with_network(tmp_path, monkeypatch):
    """With a reachable host the download goes on (MMEngine's loader), and
    a file in torch's hub cache is used without any network."""
    served = tmp_path / 'served'
    served.mkdir()
    torch.save(dict(state_dict={'w': torch.arange(3.)}), served / 'w.pth')
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}/w.pth'
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    for proxy in ('http_proxy', 'HTTP_PROXY'):  # talk to 127.0.0.1 directly
        monkeypatch.delenv(proxy, raising=False)
    try:
        ckpt = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    finally:
        server.shutdown()
        server.server_close()
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))
    assert osp.isfile(download.cached_file(url))
    again = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    assert torch.equal(again['state_dict']['w'], torch.arange(3.))
