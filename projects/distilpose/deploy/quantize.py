"""INT8 ONNX models: static quantization (QDQ) of an exported top-down model.

:func:`quantize_int8` takes a file written by
:func:`~distilpose.deploy.export_onnx`, calibrates the activation ranges on
person crops made by the file's own pipeline (its metadata: the config's
test pipeline and normalisation, so calibration sees exactly what
inference feeds the network) and writes an INT8 file with the same
metadata, which :class:`~distilpose.deploy.OnnxPoseEstimator` runs as it
runs the float one.

What is quantized, and how (measured op by op on the student,
``docs/deployment.md``, INT8):

- the convolutions, statically (QDQ; per-channel int8 weights, uint8
  activations calibrated on the crops);
- the matrix products with weights, dynamically (int8 weights, the
  activation's range taken per call): the fused attention's qkv
  projection (``Attention`` -> ``QAttention``, export with
  ``fused_attention=True``) and the other linear layers (``MatMul`` ->
  ``DynamicQuantizeMatMul``). Statically quantized (QDQ), the same layers
  gained less (0.69x of fp32 against 0.50x): the Q/DQ pairs around every
  MatMul cost much of what the int8 kernels save.

What stays in float: the attention scores and their softmax, LayerNorm,
GELU, the residual additions and the head's sigmoid/softplus outputs.
Quantizing every op (ONNX Runtime's default) made the student 1.4x
*slower* than fp32, and an int8 sigmoid or softplus output rounds scores
and sigmas to 256 levels.
"""
import json
import os.path as osp
import tempfile
from typing import Iterator, Optional, Union

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                      QuantType, quantize_dynamic,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from ..datasets.coco_annotations import load_annotation_file, people_by_image
from ..fileio import atomic_write
from .onnx_export import (META_KEY, TopdownPreprocessor, create_session,
                          read_metadata)

#: The op types quantized statically (calibrated) and dynamically; a
#: MatMul only when its second input is a weight (see the module
#: docstring for why these).
STATIC_INT8_OPS = ('Conv', )
DYNAMIC_INT8_OPS = ('Attention', 'MatMul')

#: Fewer crops than this give activation ranges too noisy to trust.
MIN_CALIB_CROPS = 16


def calibration_crops(preprocessor: TopdownPreprocessor,
                      ann_file: str,
                      img_dir: str,
                      num_crops: int = 256) -> np.ndarray:
    """Network inputs [N, 3, H, W] of the first ``num_crops`` person boxes
    (with keypoints and an area) of a COCO-format annotation file, made by
    an exported model's ``preprocessor``."""
    # (boxes of 1 px or less make degenerate crops)
    people = people_by_image(load_annotation_file(ann_file), min_size=1)
    crops, count = [], 0
    for image, anns in people:
        if count >= num_crops:
            break
        boxes = [box for _, box in anns[:num_crops - count]]
        img = preprocessor.load_image(osp.join(img_dir, image['file_name']))
        inputs, _, _ = preprocessor(img, np.asarray(boxes, np.float32))
        crops.append(inputs)
        count += len(inputs)
    if not crops:
        raise ValueError(f'{ann_file} has no person box with keypoints: '
                         'nothing to calibrate INT8 on.')
    return np.concatenate(crops)


def _check_crops(crops: np.ndarray, input_size, source: str) -> None:
    w, h = input_size
    if crops.ndim != 4 or crops.shape[1:] != (3, h, w):
        raise ValueError(
            f'Calibration data {source} has shape {tuple(crops.shape)}; the '
            f'model takes [N, 3, {h}, {w}] normalised crops. Give a '
            'COCO-format data root instead, whose crops the model\'s own '
            'pipeline makes.')
    if len(crops) < MIN_CALIB_CROPS:
        raise ValueError(
            f'Calibration data {source} holds {len(crops)} crops; INT8 '
            f'calibration needs at least {MIN_CALIB_CROPS} (a few hundred '
            'give stable ranges).')


class _CropReader(CalibrationDataReader):
    """Feeds the crops to ONNX Runtime's calibrator in batches."""

    def __init__(self, input_name: str, crops: np.ndarray, batch: int = 16):
        self._batches: Iterator = iter(
            {input_name: crops[i:i + batch]}
            for i in range(0, len(crops), batch))

    def get_next(self) -> Optional[dict]:
        return next(self._batches, None)


def load_calibration(model_path: str,
                     calib: Union[str, np.ndarray],
                     num_crops: int = 256,
                     ann_file: str = 'annotations/person_keypoints_train.json',
                     img_prefix: str = 'train/') -> np.ndarray:
    """The calibration crops from ``calib``: an array of network inputs, a
    ``.npy`` file of one, or a COCO-format data root (``ann_file`` and
    ``img_prefix`` inside it, MMPose's train layout by default), whose
    crops the exported model ``model_path``'s own pipeline makes."""
    meta = read_metadata(create_session(model_path))
    return _calibration(meta, calib, num_crops, ann_file, img_prefix)


def _calibration(meta: dict, calib, num_crops: int, ann_file: str,
                 img_prefix: str) -> np.ndarray:
    if isinstance(calib, np.ndarray):
        crops, source = calib, 'array'
    elif not osp.exists(calib):
        raise FileNotFoundError(
            f'Calibration data not found: {calib}. Give a COCO-format data '
            'root (e.g. data/synthcoco) or a .npy of network inputs.')
    elif osp.isdir(calib):
        ann = osp.join(calib, ann_file)
        if not osp.isfile(ann):
            raise FileNotFoundError(
                f'Calibration data {calib} has no {ann_file}: give a '
                'COCO-format data root, or name its annotation file.')
        crops = calibration_crops(TopdownPreprocessor(meta), ann,
                                  osp.join(calib, img_prefix), num_crops)
        source = calib
    else:
        crops, source = np.load(calib), calib
    _check_crops(np.asarray(crops), meta['input_size'], source)
    return np.ascontiguousarray(crops[:num_crops], dtype=np.float32)


def quantize_int8(fp32_path: str,
                  out_path: str,
                  calib: Union[str, np.ndarray],
                  num_crops: int = 256,
                  ann_file: str = 'annotations/person_keypoints_train.json',
                  img_prefix: str = 'train/') -> str:
    """Write the INT8 version of the exported model ``fp32_path`` to
    ``out_path``, calibrated on ``calib`` (see :func:`load_calibration`).
    Export ``fp32_path`` with ``fused_attention=True`` for the fastest
    file: each attention block then runs as one int8-projection kernel
    (``QAttention``); a plain export gets its linear layers, qkv included,
    quantized alike but keeps the unfused attention ops.

    The metadata is the float file's plus ``"precision": "int8"``. The
    calibration data is checked before anything is written, and the file
    is written atomically: an error leaves no partial file.
    """
    session = create_session(fp32_path)
    float_meta = read_metadata(session)
    crops = _calibration(float_meta, calib, num_crops, ann_file, img_prefix)
    input_name = session.get_inputs()[0].name
    meta = dict(float_meta, precision='int8', calib_crops=len(crops),
                int8_ops=dict(static=list(STATIC_INT8_OPS),
                              dynamic=list(DYNAMIC_INT8_OPS)))
    with tempfile.TemporaryDirectory() as tmp:
        prepared = osp.join(tmp, 'prepared.onnx')
        # Shape inference and ORT's graph optimisation first, as ONNX
        # Runtime's quantization guide asks (folds BatchNorm into Conv).
        # (ONNX shape inference: the symbolic one cannot follow the token
        # reshapes of the encoder.)
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
        static, dynamic = _nodes_to_quantize(onnx.load(prepared))
        convs = osp.join(tmp, 'static.onnx')
        quantize_static(
            prepared, convs, _CropReader(input_name, crops),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(STATIC_INT8_OPS),
            nodes_to_quantize=static,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8)
        quantized = osp.join(tmp, 'int8.onnx')
        if dynamic:  # (an empty list would mean every MatMul)
            quantize_dynamic(
                convs, quantized,
                op_types_to_quantize=list(DYNAMIC_INT8_OPS),
                nodes_to_quantize=dynamic,
                weight_type=QuantType.QInt8)
        proto = onnx.load(quantized if dynamic else convs)
    onnx.helper.set_model_props(proto, {META_KEY: json.dumps(meta)})
    atomic_write(proto.SerializeToString(), out_path)
    return out_path


def _nodes_to_quantize(model: onnx.ModelProto):
    """Names of the nodes to quantize statically and dynamically."""
    weights = {init.name for init in model.graph.initializer}
    static, dynamic = [], []
    for node in model.graph.node:
        if node.op_type in STATIC_INT8_OPS:
            static.append(node.name)
        elif node.op_type in DYNAMIC_INT8_OPS and (
                node.op_type != 'MatMul' or node.input[1] in weights):
            dynamic.append(node.name)
    return static, dynamic
