"""``tools/benchmark.py``: its pieces on made-up numbers, and the quick run
on a fresh set-up."""
import importlib.util
import os.path as osp
import subprocess
import sys

import pytest
from conftest import ROOT, config_path

TOOLS = osp.join(ROOT, 'tools')
sys.path.insert(0, TOOLS)

from benchmarking import report, timing  # noqa: E402
from benchmarking.models import CATALOGUE, resolve  # noqa: E402


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'benchmark_cli', osp.join(TOOLS, 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interleaved_rounds_warm_up_then_rotate():
    calls = []
    runners = {k: (lambda k=k: calls.append(k)) for k in 'abc'}
    samples = timing.interleaved(runners, 3, timing.QuietTimer(0),
                                 reps=dict(b=2))
    assert ''.join(calls) == 'abc' + 'abbc' + 'bbca' + 'cabb'
    assert {k: len(v) for k, v in samples.items()} == dict(a=3, b=6, c=3)
    assert all(t >= 0 for v in samples.values() for t in v)


def test_quiet_timer_counts_contended_cases(monkeypatch):
    # The CPUs look idle between cases, but other processes take half of
    # them during every timed attempt: the case is repeated `retries`
    # times, then kept and counted.
    def others_busy(fn):
        out = fn()
        return out, 0.5 if isinstance(out, list) else 0.

    monkeypatch.setattr(timing, 'others_busy', others_busy)
    timer = timing.QuietTimer(max_wait=5, retries=2)
    assert len(timer(lambda: None, reps=3)) == 3
    assert (timer.cases, timer.repeated, timer.contended) == (1, 2, 1)
    assert timer.summary().startswith('1 of 1 timed cases contended')
    assert timing.QuietTimer(0).summary() == 'contention checks off'


def test_models_are_catalogue_names_or_config_files():
    student = CATALOGUE['DistilPose-S']
    cfg = config_path(
        'distilpose/coco/td-reg_stemnet-tde_8xb64-300e_coco-256x192.py')
    assert resolve(['DistilPose-S', cfg]) == {
        'DistilPose-S': student,
        'td-reg_stemnet-tde_8xb64-300e_coco-256x192': cfg
    }
    with pytest.raises(ValueError, match='neither a config file'):
        resolve(['DistilPose-XL'])


def test_any_model_list_is_accepted():
    cli = load_cli()
    args = cli.parse_args(['--models', 'RLE-R50', 'DistilPose-S'])
    assert list(args.configs) == ['RLE-R50', 'DistilPose-S']
    assert args.reference == 'RLE-R50'  # no teacher: the first model
    assert cli.parse_args([]).reference == 'TokenPose teacher'
    with pytest.raises(SystemExit):
        cli.parse_args(['--models', 'RLE-R50', '--reference', 'RTMPose-s'])


def made_up_results():
    """Two models; b is twice as fast as a on every engine; BF16 takes
    0.7x the time of fp32 eager, INT8 0.8x that of fp32 ONNX Runtime."""
    lat = {}
    for name, scale in (('a', 1.), ('b', 0.5)):
        for engine, ms in (('eager', 0.1), ('eager_bf16', 0.07),
                           ('ort', 0.05), ('ort_int8', 0.04)):
            lat[f'{name}|{engine}|1'] = [ms * scale] * 3
            lat[f'{name}|{engine}|4'] = [4 * ms * scale / 2] * 3
    info = dict(params_m=1., gflops_mmengine=2., gmacs_true=5.)
    return dict(
        batch=4, latency=lat, matmul_gflops=100.,
        complexity=dict(a=info, b=info),
        training={'student-alone step': [1., 1.2, 0.8],
                  'distillation step': [2.5, 2.5, 2.5]})


def test_report_tables_from_made_up_numbers():
    res = made_up_results()
    rows = report.summarise(res)
    assert rows['a']['eager_b1'] == pytest.approx(100.)
    assert rows['a']['eager_b4'] == pytest.approx(50.)  # ms per image
    assert rows['a']['bound_ms'] == pytest.approx(100.)  # 2 * 5 G / 100 G/s
    table = report.latency_markdown(rows, 4, reference='a').splitlines()
    assert 'Speed-up vs a, b1 eager / ORT' in table[0]
    cells = [c.strip() for c in table[3].split('|')]
    assert cells[1] == 'b' and cells[15] == '2.0x / 2.0x'
    assert cells[9] == '35.0' and cells[10] == '0.70x / 0.70x'  # BF16
    assert cells[11] == '20.0' and cells[13] == '0.80x / 0.80x'  # INT8
    assert cells[14] == '0.50x' and cells[16] == '2.00x / 2.00x'
    assert cells[17] == 'n/a'  # no memory measured
    training = report.training_markdown(res['training'], 32)
    assert '| distillation step | 2500 | 2.50x |' in training


@pytest.mark.slow
def test_quick_benchmark_prints_table_and_plot(tmp_path):
    out = str(tmp_path / 'bench')
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'benchmark.py'), '--quick', '--out', out,
        '--models', 'DistilPose-S', 'TokenPose teacher', 'RTMPose-s',
        '--no-memory', '--max-wait', '0'
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = open(osp.join(out, 'benchmark.md')).read()
    rows = [line for line in text.splitlines() if line.startswith('| ')]
    models = [r.split('|')[1].strip() for r in rows[1:4]]
    assert models == ['DistilPose-S', 'TokenPose teacher', 'RTMPose-s']
    assert 'Speed-up vs TokenPose teacher' in rows[0]
    # Every latency cell of the three models is a positive number.
    for row in rows[1:4]:
        eager_b1, ort_b1 = (float(c) for c in row.split('|')[5:7])
        bf16_b1 = float(row.split('|')[9])
        int8_b1, int8_big = (float(c) for c in row.split('|')[11:13])
        assert min(eager_b1, ort_b1, bf16_b1, int8_b1, int8_big) > 0
    assert '| distillation step |' in text
    assert '- [' not in text  # the targets live in the README
    assert osp.getsize(osp.join(out, 'benchmark.png')) > 0
    assert text in proc.stdout
