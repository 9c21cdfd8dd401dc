"""``tools/benchmark.py``: its pieces on made-up numbers, the quick run on
a fresh set-up, and the GPU path (on the CPU here, on the GPU where there
is one)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, config_path, load_tool
from device_utils import needs_cuda
from engine_utils import one_thread  # noqa: F401  (fixture)

TOOLS = osp.join(ROOT, 'tools')
sys.path.insert(0, TOOLS)

from benchmarking import gpu, report, timing  # noqa: E402
from benchmarking.models import CATALOGUE, resolve  # noqa: E402


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
    cli = load_tool('benchmark')
    args = cli.parse_args(['--models', 'RLE-R50', 'DistilPose-S'])
    assert list(args.configs) == ['RLE-R50', 'DistilPose-S']
    assert args.reference == 'RLE-R50'  # no teacher: the first model
    assert cli.parse_args([]).reference == 'TokenPose teacher'
    with pytest.raises(SystemExit):
        cli.parse_args(['--models', 'RLE-R50', '--reference', 'RTMPose-s'])


def made_up_results(engines=report.ENGINES):
    """Two models; b is twice as fast as a on every engine; compiled takes
    0.9x the time of fp32 eager, BF16 0.7x, ONNX Runtime 0.5x, INT8 0.8x
    that of fp32 ONNX Runtime."""
    times = dict(eager=0.1, compiled=0.09, eager_bf16=0.07, ort=0.05,
                 ort_int8=0.04)
    lat = {}
    for name, scale in (('a', 1.), ('b', 0.5)):
        for engine in engines:
            ms = times[engine]
            lat[f'{name}|{engine}|1'] = [ms * scale] * 3
            lat[f'{name}|{engine}|4'] = [4 * ms * scale / 2] * 3
    info = dict(params_m=1., gflops_mmengine=2., gmacs_true=5.)
    return dict(
        batch=4, latency=lat, engines=list(engines),
        gemm_peaks=dict(fp32=100., bf16=200., int8=400.),
        complexity=dict(a=info, b=info),
        training={'student-alone step': [1., 1.2, 0.8],
                  'distillation step': [2.5, 2.5, 2.5]})


def cells(table: str, row: int) -> list:
    return [c.strip() for c in table.splitlines()[row].split('|')[1:-1]]


def test_report_tables_from_made_up_numbers():
    res = made_up_results()
    rows = report.summarise(res)
    assert rows['a']['eager_b1'] == pytest.approx(100.)
    assert rows['a']['eager_b4'] == pytest.approx(50.)  # ms per image
    # 2 * 5 GMACs at 100 / 200 / 400 G/s
    assert rows['a']['bound_ms'] == pytest.approx(
        dict(fp32=100., bf16=50., int8=25.))
    engines = res['engines']
    latency = report.latency_markdown(rows, 4, engines)
    assert cells(latency, 0)[4:] == [
        'eager fp32 b1 / b4', 'compiled fp32 b1 / b4', 'eager BF16 b1 / b4',
        'ORT fp32 b1 / b4', 'ORT INT8 b1 / b4']
    assert cells(latency, 3) == ['b', '1.0', '2.00', '5.00', '50.0 / 25.0',
                                 '45.0 / 22.5', '35.0 / 17.5',
                                 '25.0 / 12.5', '20.0 / 10.0']
    ratios = report.ratios_markdown(rows, 4, engines, reference='a')
    head = cells(ratios, 0)
    assert head[1:5] == [
        'compiled fp32 / eager fp32 b1 / b4',
        'eager BF16 / eager fp32 b1 / b4', 'ORT fp32 / eager fp32 b1 / b4',
        'ORT INT8 / ORT fp32 b1 / b4']
    assert head[6].startswith('Speed-up vs a b1: eager fp32 / compiled')
    row = cells(ratios, 3)
    assert row[1:5] == ['0.90x / 0.90x', '0.70x / 0.70x', '0.50x / 0.50x',
                        '0.80x / 0.80x']
    assert row[5] == 'ORT INT8 20.0 / 0.80x'  # the best path at batch 1
    assert row[6] == ' / '.join(['2.0x'] * 5)
    # b's times against its bounds: fp32 100 ms, bf16 50 ms, int8 25 ms
    assert row[7] == '0.50x / 0.45x / 0.70x / 0.25x / 0.80x'
    training = report.training_markdown(res['training'], 32)
    assert '| distillation step | 2500 | 2.50x |' in training
    rows['a']['memory'] = dict(eager={1: 60., 4: 90.}, ort={1: 70., 4: 80.})
    memory = report.memory_markdown(rows, 4)
    assert cells(memory, 2) == ['a', '60 / 90', '70 / 80']
    assert len(memory.splitlines()) == 3  # b was not measured


def test_report_without_compile():
    engines = [e for e in report.ENGINES if e != 'compiled']
    res = made_up_results(engines)
    rows = report.summarise(res)
    latency = report.latency_markdown(rows, 4, engines)
    assert 'compiled' not in latency
    ratios = report.ratios_markdown(rows, 4, engines, reference='a')
    assert 'compiled' not in ratios and len(cells(ratios, 3)) == 7


@pytest.mark.slow
def test_quick_benchmark_prints_table_and_plot(tmp_path):
    out = str(tmp_path / 'bench')
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'benchmark.py'), '--quick', '--out', out,
        '--models', 'DistilPose-S', 'TokenPose teacher', 'RTMPose-s',
        '--no-memory', '--no-compile', '--max-wait', '0'
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = open(osp.join(out, 'benchmark.md')).read()
    latency, ratios = text.split('\n\n')[1:3]
    models = [cells(latency, i)[0] for i in (2, 3, 4)]
    assert models == ['DistilPose-S', 'TokenPose teacher', 'RTMPose-s']
    assert cells(latency, 0)[4:] == [
        'eager fp32 b1 / b4', 'eager BF16 b1 / b4', 'ORT fp32 b1 / b4',
        'ORT INT8 b1 / b4']
    assert 'Speed-up vs TokenPose teacher' in ratios.splitlines()[0]
    # Every latency cell of the three models is a positive number.
    for i in (2, 3, 4):
        times = [float(t) for cell in cells(latency, i)[4:]
                 for t in cell.split(' / ')]
        assert len(times) == 8 and min(times) > 0
    assert '| distillation step |' in text
    assert '- [' not in text  # the targets live in docs/performance.md
    assert osp.getsize(osp.join(out, 'benchmark.png')) > 0
    assert text in proc.stdout


# ------------------------------------------------------------- --device
def test_the_device_defaults_to_the_cpu_and_sets_the_sizes():
    cli = load_tool('benchmark')
    args = cli.parse_args([])
    assert (args.device, args.batch, args.reps) == ('cpu', 32, 5)
    assert cli.parse_args(['--batch', '8']).batch == 8


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
@pytest.mark.parametrize('tool', ['benchmark', 'train_throughput'])
def test_cuda_is_refused_without_a_gpu(tool, capsys):
    cli = load_tool(tool)
    argv = ['--device', 'cuda'] + (['cfg.py'] if tool != 'benchmark' else [])
    with pytest.raises(SystemExit):
        cli.parse_args(argv)
    err = capsys.readouterr().err
    assert 'torch sees no CUDA GPU on this machine' in err
    assert 'use --device cpu' in err


def gpu_results(batch, big_reps=2):
    from benchmarking.models import CATALOGUE
    return gpu.measure({'DistilPose-S': CATALOGUE['DistilPose-S']}, 'cpu',
                       batch, warmup=1, reps=2, big_reps=big_reps)


@pytest.mark.usefixtures('one_thread')
def test_the_gpu_path_times_every_precision():
    """The GPU code path (``benchmarking/gpu.py``) on the CPU: every
    precision at batch 1 and the big batch, in a table."""
    text = gpu.report(gpu_results(2))
    head = cells(text.split('\n\n')[1], 0)
    assert head[3:] == ['Latency b1 (ms) fp32 / BF16 / fp16',
                        'Images/s b2 fp32 / BF16 / fp16',
                        'BF16 / fp32 speed-up b1 / b2']
    row = cells(text.split('\n\n')[1], 2)
    assert row[0] == 'DistilPose-S'
    values = [float(v) for cell in row[3:5] for v in cell.split(' / ')]
    assert len(values) == 6 and min(values) > 0
    assert 'wall clock' in text  # no CUDA events on a CPU


@pytest.mark.usefixtures('one_thread')
def test_a_case_out_of_gpu_memory_is_skipped_and_named(monkeypatch, capsys):
    real = gpu.time_calls

    def oom_at_the_big_batch(fn, device, warmup, reps):
        if reps == 3:  # the big batch's calls
            raise torch.cuda.OutOfMemoryError('CUDA out of memory.')
        return real(fn, device, warmup, reps)

    monkeypatch.setattr(gpu, 'time_calls', oom_at_the_big_batch)
    res = gpu_results(4, big_reps=3)
    assert 'DistilPose-S, fp32, batch 4: out of GPU memory, skipped' in \
        capsys.readouterr().out
    row = cells(gpu.report(res).split('\n\n')[1], 2)
    assert row[4] == 'OOM / OOM / OOM' and 'OOM' not in row[3]
    assert row[5].endswith('/ -')


@needs_cuda
def test_the_gpu_benchmark_writes_its_tables(tmp_path):
    cli = load_tool('benchmark')
    cli.main(['--device', 'cuda', '--models', 'DistilPose-S', 'RTMPose-s',
              '--batch', '16', '--reps', '3', '--warmup', '2', '--out',
              str(tmp_path)])
    text = (tmp_path / 'benchmark_cuda.md').read_text()
    assert 'CUDA events' in text
    for i in (2, 3):
        row = cells(text.split('\n\n')[1], i)
        values = [float(v) for cell in row[3:5] + row[6:]
                  for v in cell.split(' / ')]
        assert len(values) == 9 and min(values) > 0, row
