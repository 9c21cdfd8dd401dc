"""The timed paths ("engines"), by key: their names, column titles and
the precision of their arithmetic."""

ENGINES = ('eager', 'compiled', 'eager_bf16', 'ort', 'ort_int8', 'ov_fp32',
           'ov_bf16', 'ov_int8')
ENGINE_NAMES = {
    'eager': 'PyTorch eager',
    'compiled': 'PyTorch torch.compile',
    'eager_bf16': 'PyTorch eager, BF16 autocast',
    'ort': 'ONNX Runtime',
    'ort_int8': 'ONNX Runtime INT8',
    'ov_fp32': 'OpenVINO FP32',
    'ov_bf16': 'OpenVINO, BF16 precision hint',
    'ov_int8': 'OpenVINO INT8, NNCF',
}
#: Short column titles.
ENGINE_TITLES = {
    'eager': 'eager fp32',
    'compiled': 'compiled fp32',
    'eager_bf16': 'eager BF16',
    'ort': 'ORT fp32',
    'ort_int8': 'ORT INT8',
    'ov_fp32': 'OV FP32',
    'ov_bf16': 'OV BF16',
    'ov_int8': 'OV INT8',
}
#: The precision of each engine's arithmetic: which GEMM peak bounds it.
PRECISION = dict(
    eager='fp32', compiled='fp32', eager_bf16='bf16', ort='fp32',
    ort_int8='int8', ov_fp32='fp32', ov_bf16='bf16', ov_int8='int8')
