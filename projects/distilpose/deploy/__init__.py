"""Deployment without PyTorch inference: ONNX export and ONNX Runtime."""
from .onnx_export import (DYNAMIC_DIMS, INPUT_NAME, META_KEY,
                          OnnxPoseEstimator, TopdownNetwork,
                          TopdownPreprocessor, check_dynamic,
                          compare_with_pytorch, create_session, export_onnx,
                          load_model, read_metadata, topdown_metadata)
from .ort_attention import fused_attention
from .quantize import (DYNAMIC_INT8_OPS, MIN_CALIB_CROPS, STATIC_INT8_OPS,
                       load_calibration, quantize_int8)

__all__ = [
    'DYNAMIC_DIMS', 'DYNAMIC_INT8_OPS', 'INPUT_NAME', 'META_KEY',
    'MIN_CALIB_CROPS', 'OnnxPoseEstimator', 'STATIC_INT8_OPS',
    'TopdownNetwork', 'TopdownPreprocessor', 'check_dynamic',
    'compare_with_pytorch', 'create_session', 'export_onnx',
    'fused_attention', 'load_calibration', 'load_model', 'quantize_int8',
    'read_metadata', 'topdown_metadata'
]
