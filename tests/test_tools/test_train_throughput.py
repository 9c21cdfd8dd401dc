"""``tools/train_throughput.py`` on a toy student: data, step and loop
rates and a FLOP bound that none of them can beat; the breakdown of a
distillation step (the GPU's table, on the CPU here and on the GPU where
there is one); options that cannot work are refused."""
import re

import pytest
import torch
from conftest import load_tool
from device_utils import needs_cuda
from engine_utils import dump, make_data, save_teacher, tiny_config


@pytest.fixture(scope='module')
def tool():
    return load_tool('train_throughput')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp('data')), num_train=8,
                     num_val=2)


def test_student_rates_stay_under_the_flop_bound(tool, data, tmp_path,
                                                 capsys):
    teacher = save_teacher(data, str(tmp_path / 'teacher.pth'))
    cfg = tiny_config('student', data, str(tmp_path / 'work'),
                      teacher_ckpt=teacher)
    capsys.readouterr()  # what making the teacher printed
    tool.main([dump(cfg, str(tmp_path / 'cfg.py')), '--iters', '2',
               '--warmup', '1'])
    out = capsys.readouterr().out
    assert 'GFLOP per training image' in out and 'mmengine - INFO' not in out
    rates = dict(re.findall(r'^\| (data|step|loop|FLOP bound) \| ([\d.]+) ',
                            out, re.M))
    assert set(rates) == {'data', 'step', 'loop', 'FLOP bound'}, out
    rates = {k: float(v) for k, v in rates.items()}
    # The teacher's forward is counted: the bound is below the student's.
    assert 0 < rates['step'] < rates['FLOP bound'], rates
    assert 0 < rates['loop'] < rates['FLOP bound'], rates


def breakdown(tool, data, tmp_path, capsys, *extra):
    """The breakdown table of the toy distiller (random teacher): {row:
    (images/s, peak MiB or None, note)}."""
    cfg = tiny_config('student', data, str(tmp_path / 'work'),
                      teacher_ckpt=str(tmp_path / 'absent.pth'))
    capsys.readouterr()
    tool.main([dump(cfg, str(tmp_path / 'cfg.py')), '--iters', '2',
               '--warmup', '1', '--random-teacher', '--batch', '2',
               *extra])
    out = capsys.readouterr().out
    rows = re.findall(r'^\| ([a-z -]+) \| ([\d.]+) \| ([\d-]+) \| (.+) \|$',
                      out, re.M)
    return out, {name: (float(ips), None if mib == '-' else float(mib),
                        note) for name, ips, mib, note in rows}


def test_the_breakdown_splits_the_distillation_step(tool, data, tmp_path,
                                                    capsys):
    """The distillation step, the teacher's forward and the student alone,
    with a random teacher (no checkpoint needed) in channels_last."""
    out, rows = breakdown(tool, data, tmp_path, capsys, '--breakdown',
                          '--channels-last')
    assert list(rows) == ['data', 'distillation step', 'teacher forward',
                          'loop', 'student-alone step'], out
    assert all(ips > 0 and mib is None for ips, mib, _ in rows.values())
    assert rows['data'][2] == 'in the main process'  # the toy: no workers
    assert 'batch 2, 0 dataloader worker(s)' in out
    assert 'OptimWrapper, channels_last' in out
    # the teacher's forward is part of the step, the student alone less
    assert rows['teacher forward'][0] > rows['distillation step'][0]
    assert rows['student-alone step'][0] > rows['distillation step'][0]


def test_a_dataset_smaller_than_the_batch_is_named(tool, data, tmp_path,
                                                   capsys):
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'))
    path = dump(cfg, str(tmp_path / 'cfg.py'))
    capsys.readouterr()
    tool.main([path, '--batch', '512', '--iters', '1', '--warmup', '0',
               '--breakdown'])
    out = capsys.readouterr().out
    assert re.search(r'The dataset holds \d+ samples, fewer than the batch '
                     'of 512: every batch is smaller', out), out
    assert re.search(r'^\| step \| [\d.]+ \|', out, re.M)


def test_amp_is_refused_on_the_cpu(tool, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', '--amp', 'bf16'])
    err = capsys.readouterr().err
    assert '--amp bf16 needs --device cuda' in err
    assert 'model.teacher_precision=bf16' in err


def test_a_random_teacher_is_refused_without_a_teacher(tool, data, tmp_path):
    cfg = tiny_config('baseline', data, str(tmp_path / 'work'))
    path = dump(cfg, str(tmp_path / 'cfg.py'))
    with pytest.raises(SystemExit, match='has no teacher'):
        tool.main([path, '--random-teacher'])


@needs_cuda
@pytest.mark.parametrize('amp', ['bf16', 'fp16'])
def test_the_gpu_breakdown_reports_peak_memory(tool, data, tmp_path, capsys,
                                               amp):
    out, rows = breakdown(tool, data, tmp_path, capsys, '--device', 'cuda',
                          '--amp', amp)
    assert list(rows) == ['data', 'distillation step', 'teacher forward',
                          'loop', 'student-alone step'], out
    assert all(mib > 0 for _, mib, _ in list(rows.values())[1:])
    assert f'AmpOptimWrapper {dict(bf16="bfloat16", fp16="float16")[amp]}' \
        in out
    assert torch.cuda.get_device_name() in out
