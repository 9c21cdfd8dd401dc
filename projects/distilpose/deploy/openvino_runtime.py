"""OpenVINO inference of exported top-down models, on the CPU.

:class:`OpenVinoPoseEstimator` runs an OpenVINO IR written by
:func:`~distilpose.deploy.export_openvino` (FP32, or INT8 from
:func:`~distilpose.deploy.quantize_openvino`) exactly as
:class:`~distilpose.deploy.OnnxPoseEstimator` runs an ONNX file: the same
metadata (stored in the IR's ``rt_info``), the same pre-processing, codec
decoding and back-projection; only the network runs on OpenVINO.

Precision: OpenVINO's CPU plugin runs float ops in BF16 by default on CPUs
that have it (AVX512-BF16 or AMX). Here the default is ``'f32'``, the
export's own precision; ``precision='bf16'`` asks for BF16 explicitly and
is refused on a CPU without it (OpenVINO would quietly run FP32 there).

OpenVINO and NNCF are imported on first use (:func:`openvino_module`), so
``distilpose.deploy`` imports without them, and with their usage telemetry
off: the project sends and downloads nothing at run time.
"""
import json
import os.path as osp
import sys
from typing import List, Optional

import numpy as np
from mmpose.registry import KEYPOINT_CODECS

from .onnx_export import META_KEY, OnnxPoseEstimator, TopdownPreprocessor

#: ``precision`` values: OpenVINO's ``INFERENCE_PRECISION_HINT`` names.
PRECISIONS = ('f32', 'bf16')


def openvino_module():
    """The ``openvino`` module, imported with its telemetry off.

    OpenVINO's converter and NNCF send usage statistics to Google
    Analytics on import unless the user opted out; both fall back to a
    no-op stub when ``openvino_telemetry`` cannot be imported, which is
    what an absent entry in ``sys.modules`` makes them see. (An
    ``openvino_telemetry`` the process imported already is left alone.)

    Raises:
        ImportError: OpenVINO is not installed, with the install command.
    """
    sys.modules.setdefault('openvino_telemetry', None)
    try:
        import openvino
    except ImportError as err:
        raise ImportError(
            'OpenVINO is not installed: install the pinned version with '
            '`.venv/bin/pip install -r requirements.txt` (or run '
            'tools/setup_env.sh).') from err
    return openvino


def cpu_capabilities() -> List[str]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of this CPU (e.g. ``FP32``,
    ``BF16``, ``INT8``)."""
    core = openvino_module().Core()
    return list(core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))


def check_precision(precision: str) -> None:
    """Refuse a precision this CPU cannot run natively.

    Raises:
        ValueError: ``precision`` is not one of :data:`PRECISIONS`, or is
            ``'bf16'`` on a CPU without BF16 (OpenVINO would silently fall
            back to FP32 there).
    """
    if precision not in PRECISIONS:
        raise ValueError(f'Unknown precision {precision!r}: use one of '
                         f'{", ".join(PRECISIONS)}.')
    if precision == 'bf16':
        caps = cpu_capabilities()
        if 'BF16' not in caps:
            raise ValueError(
                'BF16 inference needs a CPU with AVX512-BF16 or AMX; '
                f"OpenVINO reports this CPU's capabilities as "
                f'{", ".join(caps)} (no BF16). Use precision="f32" (or '
                'the INT8 IR for speed).')


def read_ir_metadata(model, source: str = 'The OpenVINO model') -> dict:
    """The export metadata stored in an ``openvino.Model``'s rt_info."""
    if not model.has_rt_info([META_KEY]):
        raise ValueError(
            f'{source} has no {META_KEY!r} metadata in its rt_info: export '
            'it with tools/export_openvino.py (distilpose.deploy.'
            'export_openvino).')
    return json.loads(model.get_rt_info([META_KEY]).astype(str))


def read_ir(path: str):
    """``(openvino.Model, metadata)`` of an IR file pair ``path`` (.xml)
    and its .bin.

    Raises:
        FileNotFoundError: the .xml or its .bin is missing.
        ValueError: the IR has no export metadata.
    """
    stem, ext = osp.splitext(path)
    if ext != '.xml':
        raise ValueError(f'{path} is not an OpenVINO IR: give its .xml file '
                         '(written beside its .bin).')
    for file in (path, stem + '.bin'):
        if not osp.isfile(file):
            raise FileNotFoundError(
                f'OpenVINO IR file not found: {file} (an IR is an .xml and '
                'a .bin of the same name, side by side).')
    model = openvino_module().Core().read_model(path)
    return model, read_ir_metadata(model, path)


def check_batch_size(batch_size: Optional[int]) -> None:
    """Refuse a static batch size that is not a positive integer."""
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, int) or
                                   batch_size < 1):
        raise ValueError(f'batch_size={batch_size!r}: give a positive '
                         'integer (a static batch), or None for the '
                         "IR's dynamic batch.")


def compile_ir(model, precision: str = 'f32',
               num_threads: Optional[int] = None,
               batch_size: Optional[int] = None):
    """``model`` (an ``openvino.Model``) compiled for the CPU for latency,
    its float ops in ``precision`` (see :func:`check_precision`).

    ``batch_size`` compiles a copy of ``model`` whose batch dimension is
    fixed to it (``model`` itself keeps its dynamic batch): OpenVINO's CPU
    plugin plans memory and kernels once for static shapes, which
    docs/deployment.md measures faster than the dynamic batch; such a
    model runs exactly ``batch_size`` crops a call (:class:`OpenVinoSession`
    runs more or fewer in chunks)."""
    check_precision(precision)
    check_batch_size(batch_size)
    if batch_size is not None:
        model = model.clone()
        shape = model.input(0).get_partial_shape()
        shape[0] = batch_size
        model.reshape({0: shape})
    config = {'PERFORMANCE_HINT': 'LATENCY',
              'INFERENCE_PRECISION_HINT': precision}
    if num_threads:
        config['INFERENCE_NUM_THREADS'] = int(num_threads)
    return openvino_module().Core().compile_model(model, 'CPU', config)


def static_batch(compiled) -> Optional[int]:
    """The fixed batch size of a compiled model (None: dynamic)."""
    dim = compiled.input(0).get_partial_shape()[0]
    return dim.get_length() if dim.is_static else None


class OpenVinoSession:
    """A compiled OpenVINO model behind ONNX Runtime's ``run`` call, so
    the estimator code of :class:`OnnxPoseEstimator` drives it. A model
    compiled for a static batch runs any number of crops in chunks of its
    batch, the last one padded with zeros (padding rows are dropped)."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.request = compiled.create_infer_request()
        self.batch_size = static_batch(compiled)

    def run(self, output_names, feed: dict) -> List[np.ndarray]:
        """The outputs (all of them; ``output_names`` must be None) on the
        single input of ``feed``."""
        if output_names is not None:
            raise ValueError('OpenVinoSession.run returns every output: '
                             'pass output_names=None.')
        (inputs, ) = feed.values()
        inputs = np.ascontiguousarray(inputs)
        step = self.batch_size
        if step is None:
            return self._infer(inputs)
        chunks = []
        for start in range(0, len(inputs), step):
            chunk = inputs[start:start + step]
            rows = len(chunk)
            if rows < step:
                pad = np.zeros((step - rows, ) + chunk.shape[1:], chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            chunks.append([out[:rows] for out in self._infer(chunk)])
        return [np.concatenate(parts) for parts in zip(*chunks)]

    def _infer(self, inputs: np.ndarray) -> List[np.ndarray]:
        self.request.infer({0: inputs})
        return [self.request.get_output_tensor(i).data.copy()
                for i in range(len(self.compiled.outputs))]


class OpenVinoPoseEstimator(OnnxPoseEstimator):
    """Top-down keypoints of people in an image with an OpenVINO IR.

    Same call, pre-processing and decoding as :class:`OnnxPoseEstimator`
    (so the keypoints of ``inference_topdown``), the network on
    OpenVINO's CPU plugin.

    Args:
        path (str): The .xml written by ``export_openvino`` or
            ``quantize_openvino`` (its .bin beside it).
        num_threads (int, optional): OpenVINO's ``INFERENCE_NUM_THREADS``.
        precision (str): ``'f32'`` (default) or ``'bf16'`` for the float
            ops (BF16 is refused on a CPU without it).
        batch_size (int, optional): Compile for this static batch (the
            fastest for a fixed number of people a call, e.g. 1); images
            with other numbers of boxes run in chunks of it. None
            (default): the IR's dynamic batch, one call for all boxes.
    """

    def __init__(self, path: str, num_threads: Optional[int] = None,
                 precision: str = 'f32', batch_size: Optional[int] = None):
        check_precision(precision)
        check_batch_size(batch_size)
        model, self.meta = read_ir(path)
        if self.meta['outputs'] is None:
            raise ValueError(f'{path} is not a DistilPose-style regression '
                             'model: OpenVinoPoseEstimator cannot decode it.')
        self.precision = precision
        self.session = OpenVinoSession(
            compile_ir(model, precision, num_threads, batch_size))
        self.preprocessor = TopdownPreprocessor(self.meta)
        self.codec = KEYPOINT_CODECS.build(self.meta['codec'])
