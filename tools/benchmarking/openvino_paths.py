"""The benchmark's OpenVINO paths: the IRs that ``tools/export_openvino.py``
writes (FP32, and NNCF INT8 with the transformer scheme and
``INT8_FLOAT_OPS`` kept float), made by the same library calls and
compiled for the CPU in FP32, BF16 (``INFERENCE_PRECISION_HINT=bf16``) or,
for the INT8 IR, with its float ops in FP32 as the recipe is measured;
each batch size gets a model compiled for that static batch, as a
latency deployment at a fixed batch runs it.

(Not named ``openvino.py``: a script run from this folder would import it
in place of OpenVINO.)
"""
import os.path as osp
from functools import partial
from typing import Callable, Dict, Sequence

import torch

from distilpose.deploy import (INT8_FLOAT_OPS, INT8_MODEL_TYPE,
                               MIN_CALIB_CROPS, compile_ir, cpu_capabilities,
                               export_openvino, quantize_openvino, read_ir)

#: engine -> (which IR, OpenVINO's inference precision of its float ops).
OPENVINO_ENGINES = {
    'ov_fp32': ('fp32', 'f32'),
    'ov_bf16': ('fp32', 'bf16'),
    'ov_int8': ('int8', 'f32'),
}


def openvino_absent() -> Dict[str, str]:
    """OpenVINO engine -> why this machine cannot run it (empty: it runs
    them all)."""
    try:
        caps = cpu_capabilities()
    except ImportError as err:
        return {engine: str(err) for engine in OPENVINO_ENGINES}
    if 'BF16' in caps:
        return {}
    # OpenVINO would quietly run the bf16 hint in FP32 here: a second
    # FP32 column under a BF16 title.
    return {'ov_bf16': 'this CPU has neither AVX512-BF16 nor AMX (OpenVINO '
            f'reports {", ".join(caps)})'}


def openvino_note(threads: int) -> str:
    """How the OpenVINO columns were made, for the report."""
    return ('OpenVINO: the IRs of tools/export_openvino.py, compiled for '
            'each batch size as a static batch, with PERFORMANCE_HINT LATENCY '
            f'and INFERENCE_NUM_THREADS {threads}; '
            f'OV INT8 is NNCF\'s {INT8_MODEL_TYPE} scheme with '
            f'{", ".join(INT8_FLOAT_OPS)} kept float, its float ops in FP32.')


def openvino_networks(model: torch.nn.Module, folder: str, name: str,
                      engines: Sequence[str], input_shape: Sequence[int],
                      threads: int) -> Dict[str, object]:
    """OpenVINO engine -> ``compile(batch_size)`` of ``model``, for those of
    ``engines`` that are OpenVINO's. The IRs are written to ``folder``;
    the INT8 one is calibrated on random inputs of ``input_shape``
    (C, H, W): its speed does not depend on the ranges."""
    engines = [e for e in engines if e in OPENVINO_ENGINES]
    if not engines:
        return {}
    irs = dict(fp32=export_openvino(model, osp.join(folder, f'{name}.xml')))
    if any(OPENVINO_ENGINES[e][0] == 'int8' for e in engines):
        crops = torch.randn(MIN_CALIB_CROPS, *input_shape).numpy()
        irs['int8'] = quantize_openvino(
            irs['fp32'], osp.join(folder, f'{name}.int8.xml'), crops)
    compilers = {}
    for engine in engines:
        ir, precision = OPENVINO_ENGINES[engine]
        compilers[engine] = partial(compile_ir, read_ir(irs[ir])[0],
                                    precision, threads)
    return compilers


def openvino_runner(compile_for: Callable, x: torch.Tensor) -> Callable:
    """One synchronous inference of ``x`` by the model compiled for its
    batch size, with a request of its own."""
    request = compile_for(len(x)).create_infer_request()
    feed = {0: x.numpy()}
    return lambda: request.infer(feed)
