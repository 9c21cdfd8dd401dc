"""Deployment without PyTorch inference: ONNX export and ONNX Runtime."""
from .onnx_export import (DYNAMIC_DIMS, INPUT_NAME, META_KEY,
                          OnnxPoseEstimator, TopdownNetwork, check_dynamic,
                          compare_with_pytorch, create_session, export_onnx,
                          load_model, read_metadata, topdown_metadata)

__all__ = [
    'DYNAMIC_DIMS', 'INPUT_NAME', 'META_KEY', 'OnnxPoseEstimator',
    'TopdownNetwork', 'check_dynamic', 'compare_with_pytorch',
    'create_session', 'export_onnx', 'load_model', 'read_metadata',
    'topdown_metadata'
]
