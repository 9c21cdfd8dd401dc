"""Deployment without PyTorch inference: ONNX export and ONNX Runtime,
OpenVINO IR export (FP32, NNCF INT8) and OpenVINO inference."""
from .onnx_export import (DYNAMIC_DIMS, INPUT_NAME, META_KEY,
                          OnnxPoseEstimator, TopdownNetwork,
                          TopdownPreprocessor, check_dynamic,
                          compare_runtime_with_pytorch, compare_with_pytorch,
                          create_session, export_onnx, load_model,
                          read_metadata, report_agreement, topdown_metadata)
from .openvino_export import (INT8_FLOAT_OPS, INT8_MODEL_TYPE, calibration_for,
                              check_output_path, compare_ir_with_pytorch,
                              export_openvino, quantize_openvino, save_ir)
from .openvino_runtime import (PRECISIONS, OpenVinoPoseEstimator,
                               check_precision, compile_ir, cpu_capabilities,
                               openvino_module, read_ir, read_ir_metadata)
from .ort_attention import fused_attention
from .quantize import (DYNAMIC_INT8_OPS, MIN_CALIB_CROPS, STATIC_INT8_OPS,
                       load_calibration, quantize_int8)
from .student_check import check_student_config, check_student_model

__all__ = [
    'DYNAMIC_DIMS', 'DYNAMIC_INT8_OPS', 'INPUT_NAME', 'META_KEY',
    'MIN_CALIB_CROPS', 'OnnxPoseEstimator', 'STATIC_INT8_OPS',
    'TopdownNetwork', 'TopdownPreprocessor', 'check_dynamic',
    'compare_runtime_with_pytorch', 'compare_with_pytorch',
    'create_session', 'export_onnx', 'report_agreement',
    'fused_attention', 'load_calibration', 'load_model', 'quantize_int8',
    'read_metadata', 'topdown_metadata', 'INT8_FLOAT_OPS',
    'INT8_MODEL_TYPE', 'OpenVinoPoseEstimator', 'PRECISIONS',
    'calibration_for', 'check_output_path', 'check_precision',
    'check_student_config', 'check_student_model',
    'compare_ir_with_pytorch', 'compile_ir', 'cpu_capabilities',
    'export_openvino', 'openvino_module', 'quantize_openvino', 'read_ir',
    'read_ir_metadata', 'save_ir'
]
