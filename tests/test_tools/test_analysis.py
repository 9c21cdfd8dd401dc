"""``tools/benchmarking/analysis.py``: parameter and FLOP counts without
ONNX."""
import subprocess
import sys

from benchmarking.analysis import model_complexity
from conftest import TOOLS, build_from_config


def test_flop_counting_does_not_import_onnx():
    code = (f'import sys; sys.path.insert(0, {TOOLS!r}); '
            'import torch, benchmarking.analysis; '
            'assert not {"onnx", "onnxruntime"} & set(sys.modules), '
            'sorted(m for m in sys.modules if "onnx" in m)')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_complexity_of_the_student_sees_attention_only_when_explicit():
    model = build_from_config(
        'distilpose/coco/distilpose-s_stemnet_inference_coco-256x192.py')
    info = model_complexity(model, (3, 256, 192))
    # The paper's parameter count, and the MMEngine counts of
    # docs/design.md: the fused attention hides QK^T and AV (0.343 G for
    # 273 tokens x 12 layers) from the counter.
    assert round(info['params_m'], 3) == 5.364
    assert round(info['gflops_mmengine'], 3) == 2.381
    assert round(info['gmacs_true'] - info['gflops_mmengine'], 3) == 0.343
    assert not model.training and 'forward' not in vars(model)
    assert all(m.fused_attn for m in model.modules()
               if hasattr(m, 'fused_attn'))
