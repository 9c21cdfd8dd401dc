"""``tools/train_throughput.py`` on a toy student: data, step and loop
rates and a FLOP bound that none of them can beat."""
import re

import pytest
from conftest import load_tool
from engine_utils import dump, make_data, save_teacher, tiny_config


@pytest.fixture(scope='module')
def tool():
    return load_tool('train_throughput')


def test_student_rates_stay_under_the_flop_bound(tool, tmp_path, capsys):
    data = make_data(str(tmp_path / 'data'), num_train=8, num_val=2)
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
