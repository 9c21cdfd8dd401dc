"""The README's main job (tools/demo.py) at toy size: every step runs."""
import json
import math
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch
from conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools'))
from demo_helpers import zoo_entry  # noqa: E402

from distilpose.fileio import sha256sum  # noqa: E402

DEMO_TEACHER = 'tokenpose_hrnet-w16-tiny_1xb16-4x20e_synthcoco-128x96'
RESTART_CFG = osp.join(ROOT, 'configs', 'tokenpose', 'synthcoco',
                       'tokenpose_hrnet-w16-tiny_1xb16-20e-restart_'
                       'synthcoco-128x96.py')


def test_the_demo_names_its_teacher_among_entries_of_one_config():
    with pytest.raises(KeyError, match='name the one to use'):
        zoo_entry(RESTART_CFG)
    shipped = zoo_entry(RESTART_CFG, DEMO_TEACHER)
    assert shipped['file'].endswith(DEMO_TEACHER + '.pth')


@pytest.mark.slow
def test_demo_chain_at_toy_size(tmp_path):
    """Data -> the shipped teacher -> distilled student -> baseline -> mim
    test of the three -> inferencer pictures -> report, through the same
    command as ``make demo`` with a toy budget (tens of iterations)."""
    out, work, data = (str(tmp_path / d) for d in ('out', 'work', 'data'))
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'demo.py'), '--out', out, '--work-dir', work,
        '--data', data, '--train-images', '48', '--val-images', '8',
        '--batch-size', '8', '--epochs', '2', '--latency-rounds', '1',
        '--figure-dir', str(tmp_path / 'figures')
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    with open(osp.join(out, 'results.json')) as f:
        results = json.load(f)
    rows = {row['name']: row for row in results['rows']}
    assert set(rows) == {'teacher', 'student', 'baseline'}
    for name, row in rows.items():
        ap = row['metrics']['coco/AP']
        assert math.isfinite(ap) and 0 <= ap <= 1, (name, ap)
        assert row['latency_ms'] > 0 and row['params_m'] > 0
    # The student was distilled: its training log has the distillation
    # terms, and its checkpoint holds no teacher weights.
    with open(osp.join(work, 'student', 'last_checkpoint')) as f:
        student_ckpt = f.read().strip()
    state = torch.load(student_ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    assert not any(k.startswith('teacher') for k in state)
    with open(osp.join(work, 'student', 'train.log')) as f:
        assert 'loss_sim_heatmap' in f.read()

    report = open(osp.join(out, 'results.md')).read()
    assert 'DistilPose student' in report and 'regression baseline' in report
    # Four generated validation images, the comparison figure, the plots.
    assert len(results['pictures']) == 4, results['pictures']
    assert results['comparison'] == str(tmp_path / 'figures' /
                                        'comparison_seed0.png')
    assert osp.basename(results['comparison']) in report
    assert results['plots'] and not results['train_teacher']
    for png in results['pictures'] + results['plots'] + [
            results['comparison']]:
        img = cv2.imread(png)
        assert img is not None and img.size > 0, png


@pytest.mark.slow
def test_demo_train_teacher_at_toy_size(tmp_path):
    """``--train-teacher`` runs the teacher's whole recipe (the HRNet
    heatmap model, the first TokenPose cycle, three warm restarts each
    loading the previous cycle) into the work dir, distils the student from
    that teacher, and leaves the shipped files as they are."""
    teacher_cfg = osp.join(ROOT, 'configs', 'tokenpose', 'synthcoco',
                           'tokenpose_hrnet-w16-tiny_1xb16-20e-restart_'
                           'synthcoco-128x96.py')
    shipped = zoo_entry(teacher_cfg, DEMO_TEACHER)
    shipped_files = [shipped['file'], osp.join(
        ROOT, 'model_zoo', 'synthcoco',
        'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth')]
    before = {path: sha256sum(path) for path in shipped_files}

    out, work, data = (str(tmp_path / d) for d in ('out', 'work', 'data'))
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'demo.py'), '--out', out, '--work-dir', work,
        '--data', data, '--train-images', '16', '--val-images', '4',
        '--batch-size', '8', '--epochs', '1', '--teacher-epochs', '1',
        '--latency-rounds', '1', '--train-teacher',
        '--figure-dir', str(tmp_path / 'figures')
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    assert {path: sha256sum(path) for path in shipped_files} == before
    # Each restart starts from the previous cycle's last checkpoint.
    previous = osp.join(work, 'teacher_first')
    for cycle in (2, 3, 4):
        cycle_dir = osp.join(work, f'teacher_cycle{cycle}')
        with open(osp.join(previous, 'last_checkpoint')) as f:
            previous_ckpt = f.read().strip()
        with open(osp.join(cycle_dir, 'train.log')) as f:
            assert f'Load checkpoint from {previous_ckpt}' in f.read()
        previous = cycle_dir
    # The student was distilled from the re-created teacher.
    teacher = osp.join(work, osp.basename(shipped['file']))
    assert osp.isfile(teacher)
    with open(osp.join(work, 'student', 'train.log')) as f:
        assert teacher in f.read()
    with open(osp.join(out, 'results.json')) as f:
        assert json.load(f)['train_teacher']
