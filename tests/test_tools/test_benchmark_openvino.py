"""``tools/benchmark.py``'s OpenVINO columns on a tiny run: the demo
student (128x96), one round, batch 1, one thread; the IRs are made by the
project's export (``distilpose.deploy``) as the tools make them."""
import importlib.util
import json
import os

import pytest
from benchmarking.analysis import CPU_CLASSES, cpu_class, read_cpuinfo
from conftest import config_path, load_tool
from engine_utils import one_thread  # noqa: F401  (fixture)

from distilpose.deploy import cpu_capabilities

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('openvino') is None
    or importlib.util.find_spec('nncf') is None,
    reason='OpenVINO / NNCF are not installed (pip install -r '
    'requirements.txt installs the pinned openvino and nncf)')

STUDENT_CFG = config_path('distilpose/synthcoco/distilpose_hrnet-w16-tiny-'
                          '3stage_inference_synthcoco-128x96.py')
NAME = 'distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96'


def cells(table: str, row: int) -> list:
    return [c.strip() for c in table.splitlines()[row].split('|')[1:-1]]


@pytest.mark.usefixtures('one_thread')
def test_a_tiny_run_has_the_openvino_columns(tmp_path, monkeypatch):
    cli = load_tool('benchmark')
    # Not under test here: the GEMM peaks (4096^3 matmuls take seconds).
    monkeypatch.setattr(cli, 'gemm_peaks', lambda timer, threads: dict(
        fp32=100., bf16=200., int8=400.))
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    monkeypatch.setattr('tempfile.tempdir', str(scratch))
    out = tmp_path / 'out'
    assert cli.main([
        '--models', STUDENT_CFG, '--paths', 'ort', 'ov_fp32', 'ov_bf16',
        'ov_int8', '--batches', '1', '--rounds', '1', '--reps', '1',
        '--threads', '1', '--no-train', '--no-memory', '--max-wait', '0',
        '--out', str(out)
    ]) == 0
    assert os.listdir(scratch) == []  # the exported files are removed
    has_bf16 = 'BF16' in cpu_capabilities()
    text = (out / 'benchmark.md').read_text()
    paragraphs = text.split('\n\n')
    latency = next(p for p in paragraphs if p.startswith('| Model | Params'))
    assert cells(latency, 0)[5:] == ['ORT fp32 b1', 'OV FP32 b1',
                                     'OV BF16 b1', 'OV INT8 b1']
    row = cells(latency, 2)
    assert row[0] == NAME
    timed = row[5:] if has_bf16 else row[5:7] + row[8:]
    assert all(float(ms) > 0 for ms in timed)
    assert (row[7] == 'absent (below)') != has_bf16
    assert ('OV BF16: absent: this CPU has neither AVX512-BF16 nor AMX'
            in text) != has_bf16
    assert 'OV INT8: calibrated on 16 random inputs; speed does not depend ' \
        'on the calibration values' in text
    assert "OV INT8 is NNCF's transformer scheme with MVN, Add kept float" \
        in text
    paths = next(p for p in paragraphs if p.startswith('| Model | Path'))
    assert [cells(paths, i)[1] for i in range(2, len(paths.splitlines()))
            ] == ['ORT fp32', 'OV FP32'] + ['OV BF16'] * has_bf16 + [
                'OV INT8']
    assert cells(paths, 3)[3] != '-'  # OV FP32 over ORT fp32
    samples = json.loads((out / 'benchmark.json').read_text())['latency']
    assert len(samples[f'{NAME}|ov_int8|1']) == 1
    guide = (out / 'runtime_guide.md').read_text()
    cpu = CPU_CLASSES[cpu_class(read_cpuinfo()[1])]
    row = next(line for line in guide.splitlines() if NAME in line)
    assert row.startswith(f'| {cpu}, 1 thread | {NAME} | 1 | ')
    assert 'OV INT8' in row and 'OV FP32' in row and 'ORT fp32' in row
