"""``tools/plot_learning_study.py``: AP against training iterations."""
import argparse
import json
import subprocess
import sys

import pytest
from conftest import ROOT, load_tool


def scalars(path, epochs=3, per_epoch=50, interval=20, aps=(0.1, 0.3, 0.4)):
    lines = []
    for epoch in range(1, epochs + 1):
        for i in range(interval, per_epoch + 1, interval):
            step = (epoch - 1) * per_epoch + i
            lines.append(dict(loss=1.0 / step, epoch=epoch, iter=step,
                              step=step))
        lines.append({'coco/AP': aps[epoch - 1], 'step': epoch})
    path.write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    return str(path)


def test_validation_is_placed_at_the_last_logged_iteration_of_its_epoch(
        tmp_path):
    tool = load_tool('plot_learning_study')
    records = tool.read_scalars(scalars(tmp_path / 'scalars.json'))
    iters, ap = tool.ap_by_iteration(records)
    assert iters == [40, 90, 140] and ap == [0.1, 0.3, 0.4]


def test_a_run_without_training_records_is_refused(tmp_path):
    tool = load_tool('plot_learning_study')
    with pytest.raises(ValueError, match='no training records'):
        tool.ap_by_iteration([{'coco/AP': 0.5, 'step': 1}])


def test_a_warm_restart_continues_from_the_last_iteration_of_its_run(
        tmp_path):
    tool = load_tool('plot_learning_study')
    first = tool.read_scalars(scalars(tmp_path / 'first.json'))
    restart = tool.read_scalars(
        scalars(tmp_path / 'restart.json', epochs=2, aps=(0.35, 0.45)))
    iters, ap = tool.chained_ap_by_iteration([first, restart])
    assert iters == [40, 90, 140, 180, 230]
    assert ap == [0.1, 0.3, 0.4, 0.35, 0.45]
    label, paths = tool.parse_run(
        f'student={tmp_path}/first.json+{tmp_path}/restart.json')
    assert label == 'student' and len(paths) == 2


@pytest.mark.parametrize('text', [
    'no-equals-sign', '=x', 'a=/absent/path', 'a=/absent/path+/other'
])
def test_a_malformed_run_is_refused(text):
    tool = load_tool('plot_learning_study')
    with pytest.raises(argparse.ArgumentTypeError, match='--run'):
        tool.parse_run(text)


def test_the_plot_is_written(tmp_path):
    log = scalars(tmp_path / 'scalars.json')
    out = tmp_path / 'curve.png'
    proc = subprocess.run(
        [sys.executable, f'{ROOT}/tools/plot_learning_study.py', str(out),
         '--run', f'student={log}', '--teacher-ap', '0.6', '--mark', '100',
         'budget', '--level', '0.54', '90 % of the teacher'],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'student: 40: 0.100, 90: 0.300, 140: 0.400' in proc.stdout
    assert out.stat().st_size > 0


def test_a_level_that_is_not_a_number_is_refused(tmp_path):
    log = scalars(tmp_path / 'scalars.json')
    proc = subprocess.run(
        [sys.executable, f'{ROOT}/tools/plot_learning_study.py',
         str(tmp_path / 'curve.png'), '--run', f'student={log}', '--level',
         'ninety', '90 % of the teacher'], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--level 'ninety': give the AP as a number" in proc.stderr
    assert not (tmp_path / 'curve.png').exists()
