"""Deployment without PyTorch inference: ONNX export and ONNX Runtime."""
from .onnx_export import (DYNAMIC_DIMS, INPUT_NAME, META_KEY,
                          OnnxPoseEstimator, TopdownNetwork, check_dynamic,
                          compare_with_pytorch, create_session, export_onnx,
                          load_model, read_metadata, topdown_metadata)
from .quantize import (INT8_OPS, MIN_CALIB_CROPS, load_calibration,
                       quantize_int8)

__all__ = [
    'DYNAMIC_DIMS', 'INPUT_NAME', 'INT8_OPS', 'META_KEY', 'MIN_CALIB_CROPS',
    'OnnxPoseEstimator', 'load_calibration', 'quantize_int8',
    'TopdownNetwork', 'check_dynamic', 'compare_with_pytorch',
    'create_session', 'export_onnx', 'load_model', 'read_metadata',
    'topdown_metadata'
]
