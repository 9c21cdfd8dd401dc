"""OpenVINO IR export of top-down students, and NNCF INT8 quantization.

:func:`export_openvino` writes the network alone (never a distiller's
teacher) through the ONNX export: :func:`~distilpose.deploy.export_onnx`
to a temporary file, ``openvino.convert_model``, ``openvino.save_model``
with FP32 weights. The ONNX route keeps the token encoder's attention as
MatMul / ``ScaledDotProductAttention`` ops, which NNCF quantizes. The
ONNX metadata (pipeline, normalisation, codec, keypoint names) goes into
the IR's ``rt_info`` under the same key, so
:class:`~distilpose.deploy.OpenVinoPoseEstimator` needs no config.

:func:`quantize_openvino` calibrates NNCF's post-training quantization on
person crops made by the model's own pipeline from a COCO-format data root
(as :func:`~distilpose.deploy.quantize_int8` does for ONNX Runtime) and
keeps in float the ops of :data:`INT8_FLOAT_OPS` (why: the module
constants and ``docs/deployment.md``).

An IR is two files (.xml and .bin): both are written under temporary
names beside the target and renamed at the end, so an error leaves
neither half-written nor mismatched.
"""
import json
import logging
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Optional, Sequence, Union

import numpy as np
import onnx
from torch import nn

from ..fileio import DISK_FULL, disk_full_error
from .onnx_export import META_KEY, compare_runtime_with_pytorch, export_onnx
from .openvino_runtime import compile_ir, openvino_module, read_ir
from .quantize import _calibration
from .student_check import check_student_model

#: NNCF's model type (``None``: its default scheme, made for CNNs). On
#: the demo student (AP on 200 generated val images, fp32 0.303) the
#: default scheme lost 0.040 AP, the transformer scheme 0.0003.
INT8_MODEL_TYPE = 'transformer'
#: OpenVINO op types kept float (NNCF ``ignored_scope``): LayerNorm
#: (``MVN``) and the additions (residual stream, biases). Under the
#: default scheme the demo student's AP was 0.263 with both in int8,
#: 0.299 with LayerNorm float, 0.273 with the additions float, 0.303 with
#: both float. The transformer scheme leaves them float itself; the
#: ignored scope keeps them so whatever the scheme.
INT8_FLOAT_OPS = ('MVN', 'Add')


def check_output_path(path: str) -> None:
    """Refuse an IR path that cannot be written, before any work.

    Raises:
        ValueError: ``path`` does not end in ``.xml``.
        OSError: ``path`` is a folder, its folder is a file, or the
            nearest existing folder is not writable.
    """
    if osp.isdir(path):
        raise IsADirectoryError(
            f'Cannot write the OpenVINO IR to {path}: it is a folder. Give '
            'the path of the .xml to write.')
    if not path.endswith('.xml'):
        raise ValueError(
            f'Cannot write an OpenVINO IR to {path}: give a path ending in '
            '.xml (the IR is that .xml and a .bin of the same name).')
    folder = osp.dirname(osp.abspath(path))
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder):
        raise NotADirectoryError(
            f'Cannot write the OpenVINO IR {path}: {folder} is a file, not '
            'a folder.')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f'Cannot write the OpenVINO IR {path}: the folder {folder} is '
            'not writable. Choose another output path.')


def save_ir(model, path: str) -> str:
    """Write ``model`` (an ``openvino.Model``) to ``path`` (.xml) and its
    .bin, FP32 weights kept (``save_model`` would halve them to FP16).

    Both files are written into a temporary folder beside ``path`` and
    moved in at the end (the .bin first); on an error neither name is
    touched and the temporary folder is removed.
    """
    check_output_path(path)
    path = osp.abspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    stem = osp.splitext(osp.basename(path))[0]
    tmp = tempfile.mkdtemp(prefix=f'.{stem}.', suffix='.tmp', dir=folder)
    try:
        tmp_xml = osp.join(tmp, 'model.xml')
        try:
            openvino_module().save_model(
                model, tmp_xml, compress_to_fp16=False)
        except RuntimeError as err:  # OpenVINO's C++ errors
            raise OSError(f'Cannot write the OpenVINO IR {path}: {err}. '
                          'Nothing was written under that name.') from err
        for ext in ('.bin', '.xml'):
            os.replace(osp.join(tmp, 'model' + ext), osp.join(
                folder, stem + ext))
    except OSError as err:
        if err.errno in DISK_FULL:
            size = sum(osp.getsize(osp.join(tmp, f)) for f in os.listdir(tmp))
            raise disk_full_error(err, path, size) from err
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _onnx_metadata(path: str) -> dict:
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    return json.loads(props[META_KEY])


def export_openvino(model: nn.Module,
                    path: str,
                    flip_test: bool = False,
                    opset: int = 17) -> str:
    """Export a top-down student (built by ``load_model``) to the
    OpenVINO IR ``path`` (.xml, plus its .bin).

    The network and its metadata are those of
    :func:`~distilpose.deploy.export_onnx` (dynamic batch; the metadata in
    the IR's ``rt_info``).

    Raises:
        ValueError: ``model`` is a distiller (export its student from the
            inference config) or ``path`` is not an .xml.
        OSError: ``path`` cannot be written (nothing is).
    """
    check_student_model(model)
    check_output_path(path)
    ov = openvino_module()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(model, osp.join(tmp, 'model.onnx'),
                                flip_test=flip_test, opset=opset)
        meta = _onnx_metadata(onnx_path)
        ov_model = ov.convert_model(onnx_path)
    ov_model.set_rt_info(json.dumps(meta), [META_KEY])
    return save_ir(ov_model, path)


def calibration_for(meta: dict,
                    calib: Union[str, np.ndarray],
                    num_crops: int = 256,
                    ann_file: str = 'annotations/person_keypoints_train.json',
                    img_prefix: str = 'train/') -> np.ndarray:
    """The calibration crops [N, 3, H, W] of a model with export metadata
    ``meta`` (:func:`~distilpose.deploy.topdown_metadata`, or an IR's):
    :func:`~distilpose.deploy.load_calibration`'s crops and checks
    (missing data, fewer than ``MIN_CALIB_CROPS`` crops, a wrong input
    size), without an exported file."""
    return _calibration(meta, calib, num_crops, ann_file, img_prefix)


def _nncf_model_type(nncf, model_type: Optional[str]):
    if model_type is None:
        return None
    if model_type != 'transformer':
        raise ValueError(f'Unknown NNCF model type {model_type!r}: use '
                         "'transformer' or None.")
    return nncf.ModelType.TRANSFORMER


def quantize_openvino(
        fp32_path: str,
        out_path: str,
        calib: Union[str, np.ndarray],
        num_crops: int = 256,
        ann_file: str = 'annotations/person_keypoints_train.json',
        img_prefix: str = 'train/',
        model_type: Optional[str] = INT8_MODEL_TYPE,
        float_ops: Sequence[str] = INT8_FLOAT_OPS) -> str:
    """Write the INT8 version of the IR ``fp32_path`` to ``out_path``.

    NNCF's post-training quantization, calibrated on ``calib``: a
    COCO-format data root (``ann_file`` and ``img_prefix`` inside it)
    whose first ``num_crops`` person crops the IR's own pipeline makes,
    a ``.npy`` of network inputs or such an array (at least
    :data:`~distilpose.deploy.MIN_CALIB_CROPS` crops). ``model_type``
    ``'transformer'`` is NNCF's transformer scheme; the ops of type
    ``float_ops`` stay float.

    The metadata is the float IR's plus ``"precision": "int8"``, the
    number of calibration crops and the scheme. The calibration data and
    ``out_path`` are checked before anything is written.
    """
    model, meta = read_ir(fp32_path)
    crops = calibration_for(meta, calib, num_crops, ann_file, img_prefix)
    check_output_path(out_path)
    import nncf  # after openvino_module(): telemetry off
    scope = None
    if float_ops:
        scope = nncf.IgnoredScope(types=list(float_ops), validate=False)
    from nncf.common.logging import nncf_logger
    level = nncf_logger.level
    nncf.set_log_level(logging.WARNING)  # not one line per float op
    try:
        quantized = nncf.quantize(
            model,
            nncf.Dataset([crops[i:i + 1] for i in range(len(crops))]),
            model_type=_nncf_model_type(nncf, model_type),
            ignored_scope=scope,
            subset_size=len(crops))
    finally:
        nncf.set_log_level(level)
    int8_meta = dict(
        meta, precision='int8', calib_crops=len(crops),
        int8=dict(quantizer=f'nncf {nncf.__version__}',
                  model_type=model_type, float_ops=list(float_ops)))
    quantized.set_rt_info(json.dumps(int8_meta), [META_KEY])
    return save_ir(quantized, out_path)


def compare_ir_with_pytorch(model: nn.Module,
                            path: str,
                            batch_sizes: Sequence[int] = (1, 3),
                            seed: int = 0,
                            precision: str = 'f32'
                            ) -> Dict[int, np.ndarray]:
    """Run the IR (in ``precision``) and ``model`` on the same random
    inputs; per batch size, the OpenVINO and PyTorch outputs stacked as
    ``[2, ...]``."""
    ir, meta = read_ir(path)
    compiled = compile_ir(ir, precision)
    return compare_runtime_with_pytorch(model, meta,
                                        lambda x: compiled(x)[0],
                                        batch_sizes, seed)
