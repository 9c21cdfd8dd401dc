"""``tools/benchmark.py``: its pieces on made-up numbers, the quick run on
a fresh set-up, and the GPU path (on the CPU here, on the GPU where there
is one)."""
import os
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

from benchmarking import analysis, gpu, report, targets, timing  # noqa: E402
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


def test_quiet_timer_times_warm_calls_after_its_wait(monkeypatch):
    # One untimed call follows each wait for idle CPUs (it pays the cold
    # caches), unless the calls are long enough not to need it.
    monkeypatch.setattr(timing, 'others_busy', lambda fn: (fn(), 0.))
    calls = []
    timer = timing.QuietTimer(max_wait=5)
    assert len(timer(lambda: calls.append(1), reps=3)) == 3
    assert len(calls) == 4
    assert len(timer(lambda: calls.append(1), reps=3, warm=False)) == 3
    assert len(calls) == 7
    # without waiting there is nothing to warm up after
    assert len(timing.QuietTimer(0)(lambda: calls.append(1), reps=2)) == 2
    assert len(calls) == 9


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


def made_up_results(engines=report.ENGINES, absent=None):
    """Two models; b is twice as fast as a on every engine. Against eager
    fp32 (100 ms for a at batch 1) compiled takes 0.9x, BF16 0.7x, ONNX
    Runtime 0.5x, its INT8 0.4x, OpenVINO FP32 0.45x, BF16 0.2x and INT8
    0.25x. Batch 1: three rounds of one call, the middle one the median
    (0.9x, 1x, 1.2x of it); batch 4: half the time per image, steady."""
    times = dict(eager=0.1, compiled=0.09, eager_bf16=0.07, ort=0.05,
                 ort_int8=0.04, ov_fp32=0.045, ov_bf16=0.02, ov_int8=0.025)
    lat = {}
    for name, scale in (('a', 1.), ('b', 0.5)):
        for engine in engines:
            s = times[engine] * scale
            lat[f'{name}|{engine}|1'] = [0.9 * s, 1.2 * s, s]
            lat[f'{name}|{engine}|4'] = [4 * s / 2] * 3
    info = dict(params_m=1., gflops_mmengine=2., gmacs_true=5.)
    return dict(
        batches=[1, 4], reps=1, rounds=3, threads=2, latency=lat,
        engines=list(engines), absent=absent or {}, cpu_class='amx',
        gemm_peaks=dict(fp32=100., bf16=200., int8=400.),
        complexity=dict(a=info, b=info),
        inputs=dict(a=(3, 8, 6), b=(3, 8, 6)), train_batch=32,
        machine='Made-up CPU', versions='torch 0', contention='quiet',
        load_start=(0., 0., 0.), load_end=(0., 0., 0.),
        training={'student-alone step': [1., 1.2, 0.8],
                  'distillation step': [2.5, 2.5, 2.5]})


def cells(table: str, row: int) -> list:
    return [c.strip() for c in table.splitlines()[row].split('|')[1:-1]]


def test_report_tables_from_made_up_numbers(tmp_path):
    res = made_up_results()
    rows = report.summarise(res)
    assert rows['a']['eager_b1'] == pytest.approx(100.)
    assert rows['a']['eager_b4'] == pytest.approx(50.)  # ms per image
    assert rows['a']['spread']['eager_b1'] == pytest.approx((90., 120.))
    # 2 * 5 GMACs at 100 / 200 / 400 G/s
    assert rows['a']['bound_ms'] == pytest.approx(
        dict(fp32=100., bf16=50., int8=25.))
    engines = res['engines']
    latency = report.latency_markdown(rows, [1, 4], engines)
    assert cells(latency, 0)[4:] == [
        'FLOP bound (ms) fp32 / bf16 / int8', 'eager fp32 b1 / b4',
        'compiled fp32 b1 / b4', 'eager BF16 b1 / b4', 'ORT fp32 b1 / b4',
        'ORT INT8 b1 / b4', 'OV FP32 b1 / b4', 'OV BF16 b1 / b4',
        'OV INT8 b1 / b4']
    assert cells(latency, 3) == [
        'b', '1.0', '2.00', '5.00', '100.0 / 50.0 / 25.0', '50.0 / 25.0',
        '45.0 / 22.5', '35.0 / 17.5', '25.0 / 12.5', '20.0 / 10.0',
        '22.5 / 11.2', '10.0 / 5.0', '12.5 / 6.2']
    paths = report.paths_markdown(rows, [1, 4], engines, reference='a')
    assert cells(paths, 0) == [
        'Model', 'Path', 'b1 ms: median (rounds min-max)',
        'b4 ms per image: median (rounds min-max)', '/ ORT fp32 b1 / b4',
        '/ eager fp32 b1 / b4', 'speed-up vs a b1 / b4',
        '/ FLOP bound b1 / b4']
    assert len(paths.splitlines()) == 2 + 2 * len(engines)
    # b on OpenVINO BF16: 10 ms (9-12 over the rounds), 0.4x of its ORT
    # fp32, 0.2x of its eager, 2x faster than a on the same path, and 0.2x
    # of its BF16 bound (50 ms)
    assert cells(paths, 2 + len(engines) + 6) == [
        'b', 'OV BF16', '10.0 (9.0-12.0)', '5.0 (5.0-5.0)', '0.40x / 0.40x',
        '0.20x / 0.20x', '2.0x / 2.0x', '0.20x / 0.10x (bf16)']
    training = report.training_markdown(res['training'], 32)
    assert '| distillation step | 2500 | 2.50x |' in training
    rows['a']['memory'] = dict(eager={1: 60., 4: 90.}, ort={1: 70., 4: 80.})
    memory = report.memory_markdown(rows, [1, 4])
    assert cells(memory, 2) == ['a', '60 / 90', '70 / 80']
    assert len(memory.splitlines()) == 3  # b was not measured
    text = report.report(res, 'a', str(tmp_path / 'plot.png'))
    assert text.startswith('Machine: Made-up CPU, 2 threads; GEMM peaks')
    assert 'Medians of 3 interleaved rounds (1 call per round' in text
    assert 'untimed call' not in text
    assert osp.getsize(tmp_path / 'plot.png') > 0
    res['warm'] = True
    assert ('one at larger batches, each case after one untimed call); '
            in report.report(res, 'a', str(tmp_path / 'plot.png')))


def test_the_runtime_guide_ranks_the_paths():
    res = made_up_results(['eager', 'ort', 'ov_bf16', 'ov_int8'])
    guide = report.runtime_guide(res)
    table = guide.split('\n\n')[1]
    assert cells(table, 0) == [
        'CPU', 'Model', 'Batch',
        'Paths, fastest first: ms (per image at batch > 1) and x ORT fp32']
    assert cells(table, 2) == [
        'AMX, 2 threads', 'a', '1', 'OV BF16 20.0 (0.40x), OV INT8 25.0 '
        '(0.50x), ORT fp32 50.0 (1.00x), eager fp32 100.0 (2.00x)']
    assert cells(table, 5)[:3] == ['AMX, 2 threads', 'b', '4']


def test_an_absent_path_keeps_its_column_and_says_why(tmp_path):
    why = 'this CPU has neither AVX512-BF16 nor AMX (OpenVINO reports FP32)'
    engines = [e for e in report.ENGINES if e != 'ov_bf16']
    res = made_up_results(engines, absent=dict(ov_bf16=why))
    text = report.report(res, 'a', str(tmp_path / 'plot.png'))
    assert f'\n\nOV BF16: absent: {why}.\n\n' in text
    latency = text.split('\n\n')[3]
    assert cells(latency, 0)[-2] == 'OV BF16 b1 / b4'
    assert cells(latency, 2)[-2] == 'absent (below)'
    assert 'OV BF16' not in text.split('\n\n')[4]  # the per-path table
    assert f'OV BF16: absent: {why}.' in report.runtime_guide(res)


def test_report_without_compile():
    engines = [e for e in report.ENGINES if e != 'compiled']
    res = made_up_results(engines)
    rows = report.summarise(res)
    latency = report.latency_markdown(rows, [1, 4], engines)
    assert 'compiled' not in latency
    paths = report.paths_markdown(rows, [1, 4], engines, reference='a')
    assert 'compiled' not in paths
    assert len(paths.splitlines()) == 2 + 2 * len(engines)


def test_a_run_of_batch_1_only():
    res = made_up_results(['eager', 'ort'])
    res['batches'] = [1]
    rows = report.summarise(res)
    assert 'eager_b4' not in rows['a']
    assert cells(report.latency_markdown(rows, [1], ['eager', 'ort']),
                 2)[-2:] == ['100.0', '50.0']


# ----------------------------------------------------------- the targets
def target_rows(best_ms, ort_ms=36., peer_eager_ms=26.7):
    """DistilPose-S with OV BF16 at ``best_ms`` and ORT fp32 at
    ``ort_ms``; RTMPose-s eager at ``peer_eager_ms``."""
    return {
        'DistilPose-S': dict(eager_b1=50., ort_b1=ort_ms,
                             ov_bf16_b1=best_ms),
        'RTMPose-s': dict(eager_b1=peer_eager_ms, ort_b1=10.,
                          ov_bf16_b1=8.),
    }


@pytest.mark.parametrize('cpu,best_ms,verdicts', [
    ('amx', 14.0, ['PASS', 'PASS']),  # 0.389x
    ('amx', 15.0, ['MISS', 'PASS']),  # 0.417x
    ('vnni', 17.0, ['PASS', 'PASS']),  # 0.472x, under 0.50x
    ('vnni', 30.0, ['MISS', 'MISS']),  # 0.833x; slower than 26.7 ms
])
def test_the_targets_pass_or_miss_on_the_numbers(cpu, best_ms, verdicts):
    checks = targets.check_targets(target_rows(best_ms),
                                   ['eager', 'ort', 'ov_bf16'], cpu)
    assert [verdict for _, _, verdict in checks] == verdicts
    limit = targets.BEST_VS_ORT[cpu]
    assert f'<= {limit:.2f}x its ORT fp32 latency' in checks[0][0]
    assert checks[0][1] == (f'OV BF16 {best_ms:.1f} ms / ORT fp32 36.0 ms = '
                            f'{best_ms / 36:.3f}x')
    assert checks[1][1] == f'OV BF16 {best_ms:.1f} ms against 26.7 ms'


def test_the_targets_name_what_the_run_cannot_decide():
    rows = target_rows(14.0)
    checks = targets.check_targets(rows, ['eager', 'ort', 'ov_bf16'], 'bf16')
    assert checks[0][2] == ('not checked: no target is stated for a CPU '
                            'with AVX512-BF16 without AMX')
    assert checks[1][2] == 'PASS'
    del rows['RTMPose-s']
    checks = targets.check_targets(rows, ['ort', 'ov_bf16'], 'amx')
    assert checks[0][2] == 'PASS'
    assert checks[1][2] == 'not checked: RTMPose-s eager fp32 not timed'
    checks = targets.check_targets({}, ['ort'], 'amx')
    assert {c[2] for c in checks} == {
        'not checked: DistilPose-S at batch 1 was not timed'}
    table = targets.targets_markdown(target_rows(15.0), ['ort', 'ov_bf16'],
                                     'amx')
    assert cells(table, 2)[2] == '**MISS**'


# ------------------------------------------------------ the machine line
@pytest.mark.parametrize('flags,named,cpu', [
    ('avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8',
     'flags avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8', 'amx'),
    ('avx2 avx512f avx512_vnni avx512_bf16', 'flags avx512_vnni avx512_bf16',
     'bf16'),
    ('avx2 avx512f avx512_vnni', 'flags avx512_vnni', 'vnni'),
    ('avx2 avx_vnni', 'flags avx_vnni', 'vnni'),
    ('avx2 fma', 'none of the flags avx512_vnni avx_vnni avx512_bf16 '
     'amx_tile amx_bf16 amx_int8', 'plain'),
])
def test_the_machine_line_reads_the_flags_of_cpuinfo(tmp_path, flags, named,
                                                     cpu):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nmodel name\t: Made-up Xeon 8480\n'
                    f'flags\t\t: fpu {flags}\n\nprocessor\t: 1\n'
                    'model name\t: Another CPU\nflags\t\t: fpu\n')
    assert analysis.read_cpuinfo(str(info)) == ('Made-up Xeon 8480',
                                                {'fpu', *flags.split()})
    assert analysis.cpu_class(analysis.read_cpuinfo(str(info))[1]) == cpu
    line = analysis.machine_name(str(info))
    assert line.startswith(f'Made-up Xeon 8480, {os.cpu_count()} cores, ')
    assert f', {named}' in line


def test_the_machine_line_without_cpuinfo(tmp_path):
    assert analysis.read_cpuinfo(str(tmp_path / 'none')) == ('', set())
    line = analysis.machine_name(str(tmp_path / 'none'))
    assert f'{os.cpu_count()} cores' in line and 'none of the flags' in line


# ------------------------------------------------------------ the options
def test_the_paths_batches_and_threads_are_chosen():
    cli = load_tool('benchmark')
    args = cli.parse_args([])
    assert args.paths == list(report.ENGINES) and args.batches == [1, 32]
    assert args.threads == 2
    args = cli.parse_args(['--backends', 'ov_int8', 'ort', '--batches', '32',
                           '1', '32', '--threads', '1'])
    assert args.paths == ['ort', 'ov_int8']  # in the tables' order
    assert args.batches == [1, 32]
    assert cli.parse_args(['--batch', '8']).batches == [1, 8]
    assert cli.parse_args(['--batches', '1']).batches == [1]
    assert cli.parse_args(['--quick']).batches == [1, 4]
    assert 'compiled' not in cli.parse_args(['--no-compile']).paths


@pytest.mark.parametrize('argv,error', [
    (['--batch', '8', '--batches', '1', '8'],
     'give --batches or --batch, not both (--batch 8 means --batches 1 8)'),
    (['--batches', '1', '0'], '--batches 0: give a positive number'),
    (['--rounds', '0', '--threads', '-1'],
     '--rounds 0, --threads -1: give a positive number'),
    (['--paths', 'tensorrt'], "invalid choice: 'tensorrt'"),
])
def test_bad_sizes_and_paths_are_refused(argv, error, capsys):
    with pytest.raises(SystemExit):
        load_tool('benchmark').parse_args(argv)
    assert error in capsys.readouterr().err


def test_paths_this_machine_cannot_run_are_refused(monkeypatch, tmp_path,
                                                   capsys):
    """Before anything is built or written."""
    cli = load_tool('benchmark')
    why = 'this CPU has neither AVX512-BF16 nor AMX (OpenVINO reports FP32)'
    monkeypatch.setattr(cli, 'openvino_absent', lambda: dict(ov_bf16=why))
    out = tmp_path / 'out'
    assert cli.main(['--paths', 'ov_bf16', '--out', str(out)]) == 2
    assert capsys.readouterr().err == (
        f'error: none of the paths asked for can run here: OV BF16: {why}. '
        'Choose others with --paths.\n')
    assert not out.exists()
    assert cli.select_engines(['ort', 'ov_bf16']) == (['ort'],
                                                      dict(ov_bf16=why))


@pytest.mark.slow
def test_quick_benchmark_prints_table_and_plot(tmp_path):
    out = str(tmp_path / 'bench')
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'benchmark.py'), '--quick', '--out', out,
        '--models', 'DistilPose-S', 'TokenPose teacher', 'RTMPose-s',
        '--no-memory', '--no-compile', '--max-wait', '0', '--threads', '1'
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = open(osp.join(out, 'benchmark.md')).read()
    paragraphs = text.split('\n\n')
    latency, paths, verdicts = (
        next(p for p in paragraphs if p.startswith(start))
        for start in ('| Model | Params', '| Model | Path', '| Target'))
    models = [cells(latency, i)[0] for i in (2, 3, 4)]
    assert models == ['DistilPose-S', 'TokenPose teacher', 'RTMPose-s']
    titles = [report.ENGINE_TITLES[e] for e in report.ENGINES
              if e != 'compiled']
    assert cells(latency, 0)[5:] == [f'{t} b1 / b4' for t in titles]
    assert 'speed-up vs TokenPose teacher b1 / b4' in cells(paths, 0)
    # Every latency cell of the three models is a positive number (or
    # says why its path is absent on this CPU).
    for i in (2, 3, 4):
        row = [c for c in cells(latency, i)[5:] if c != 'absent (below)']
        times = [float(t) for cell in row for t in cell.split(' / ')]
        assert len(times) == 2 * len(row) and min(times) > 0
        assert len(row) >= len(titles) - 1  # at most OV BF16 absent
    ratio, peer = (cells(verdicts, i)[2] for i in (2, 3))
    assert ratio in ('**PASS**', '**MISS**') or ratio.startswith(
        '**not checked: no target is stated for a CPU with')
    assert peer in ('**PASS**', '**MISS**')
    assert '| distillation step |' in text
    assert osp.getsize(osp.join(out, 'benchmark.png')) > 0
    assert osp.getsize(osp.join(out, 'runtime_guide.md')) > 0
    assert text in proc.stdout


# ------------------------------------------------------------- --device
def test_the_device_defaults_to_the_cpu_and_sets_the_sizes():
    cli = load_tool('benchmark')
    args = cli.parse_args([])
    assert (args.device, args.batch, args.reps) == ('cpu', 32, 30)
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


def test_openvino_probe_tables_and_refusals():
    probe = load_tool('benchmarking/openvino_latency')
    # two rounds of three calls: ORT's first calls 40 ms, then 30; OV 12
    # and 10 in one round, 15 and 11 in the other
    samples = {'ORT fp32': [.04, .03, .03] * 2,
               'OV BF16': [.012, .01, .01, .015, .011, .011]}
    out = probe.tables(samples, rounds=2, reps=3, cold=True)
    assert '| ORT fp32 | 40.0 | 30.0 | 1.33 |' in out
    assert '| OV BF16 | 13.5 | 10.5 | 1.29 |' in out
    assert '| OV BF16 | 10.0 | 10.0-11.0 | 0.33x |' in out
    assert 'first call' not in probe.tables(samples, 2, 3, cold=False)
    with pytest.raises(SystemExit):
        probe.parse_args(['--calib-data', 'd', '--reps', '1', '--cold'])
    assert probe.parse_args(['--calib-data', 'd', '--no-bf16']).no_bf16
