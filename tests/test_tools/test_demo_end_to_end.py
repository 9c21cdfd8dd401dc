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
        '--batch-size', '8', '--epochs', '2', '--latency-rounds', '1'
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
    # Four generated validation images and the photograph, then the plots.
    assert len(results['pictures']) == 5, results['pictures']
    assert results['plots'] and not results['train_teacher']
    for png in results['pictures'] + results['plots']:
        img = cv2.imread(png)
        assert img is not None and img.size > 0, png
