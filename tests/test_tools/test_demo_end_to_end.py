"""The README's main job (tools/demo.py) at toy size: every step runs."""
import json
import math
import os.path as osp
import subprocess
import sys
from argparse import Namespace

import cv2
import pytest
import torch
from conftest import ROOT, load_tool

sys.path.insert(0, osp.join(ROOT, 'tools'))
from demo_helpers import zoo_entry  # noqa: E402

from distilpose.fileio import sha256sum  # noqa: E402

demo = load_tool('demo')
RESTART_CFG = osp.join(ROOT, 'configs', demo.TEACHER_CFG)
#: The teacher before its last cycle, and the demo's (the stronger one).
TEACHERS = [zoo_entry(RESTART_CFG, name)['file'] for name in
            (demo.TEACHER_DEMO_DATA_NAME, demo.TEACHER_NAME)]


def test_the_demo_names_its_teacher_among_entries_of_one_config():
    with pytest.raises(KeyError, match='name the one to use'):
        zoo_entry(RESTART_CFG)
    assert TEACHERS[1].endswith(
        'tokenpose_hrnet-w16-tiny_1xb16-4x20e-8k10e_synthcoco-128x96.pth')


def test_train_teacher_chains_the_recipe_ending_on_the_extra_images(
        tmp_path, monkeypatch):
    """The six runs of ``--train-teacher`` in order, each continuing the
    one before; the last on the extra images, from the published file of
    the cycles before, as the metafile's command continues the shipped
    one."""
    runs, published = [], []

    def train(name, args, options=(), work_name=None, data=None):
        runs.append((name, list(options), data))
        return f'{work_name or name}/last.pth'

    monkeypatch.setattr(demo, 'train', train)
    monkeypatch.setattr(demo.helpers, 'publish',
                        lambda src, dst: published.append((src, dst)) or '0')
    args = Namespace(work_dir=str(tmp_path), teacher_epochs=None,
                     teacher_extra_data='/data/extra')
    assert demo.train_teacher(args) == 'teacher_extra/last.pth'
    assert [name for name, _, _ in runs] == [
        'hm_teacher', 'teacher_first', 'teacher', 'teacher', 'teacher',
        'teacher_extra']
    assert [data for _, _, data in runs] == [None] * 5 + ['/data/extra']
    loads = [o for _, options, _ in runs for o in options
             if o.startswith('load_from=')]
    restarted = str(tmp_path / osp.basename(TEACHERS[0]))
    assert loads == ['load_from=teacher_first/last.pth',
                     'load_from=teacher_cycle2/last.pth',
                     'load_from=teacher_cycle3/last.pth',
                     f'load_from={restarted}']
    assert published[-1] == ('teacher_cycle4/last.pth', restarted)
    assert 'train_cfg.max_epochs=10' in runs[-1][1]
    assert not any('max_epochs' in o for o in runs[2][1])  # config's 20


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
        assert row['gflops'] > 0
    # 2 epochs of 48 images: as many iterations as the checkpoint says.
    assert rows['student']['iterations'] == rows['baseline']['iterations']
    assert rows['student']['iterations'] > 0
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
    assert "% of the teacher's GFLOPs" in report
    # The model zoo's student: its row, or the line that it is missing.
    zoo = results['zoo_student']
    assert zoo['name'] == demo.ZOO_STUDENT_NAME
    assert (('| model-zoo student' in report) if zoo['found'] else
            (f'`{zoo["name"]}` has no entry' in report))
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
    loading the previous cycle, the last cycle on the extra images from
    the published weights of those) into the work dir, distils the student
    from that teacher, and leaves the shipped files as they are."""
    shipped_files = TEACHERS + [osp.join(
        ROOT, 'model_zoo', 'synthcoco',
        'td-hm_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.pth')]
    before = {path: sha256sum(path) for path in shipped_files}

    out, work, data, extra = (str(tmp_path / d)
                              for d in ('out', 'work', 'data', 'extra'))
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'demo.py'), '--out', out, '--work-dir', work,
        '--data', data, '--train-images', '16', '--val-images', '4',
        '--batch-size', '8', '--epochs', '1', '--teacher-epochs', '1',
        '--latency-rounds', '1', '--train-teacher',
        '--teacher-extra-data', extra, '--teacher-extra-images', '12',
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
    # The last cycle: on the extra images, from the published teacher of
    # the cycles before (as the metafile's command loads the shipped one).
    with open(osp.join(extra, 'annotations',
                       'person_keypoints_train.json')) as f:
        assert len(json.load(f)['images']) == 12
    with open(osp.join(work, 'teacher_extra', 'train.log')) as f:
        extra_log = f.read()
    published = osp.join(work, osp.basename(TEACHERS[0]))
    assert f'Load checkpoint from {published}' in extra_log
    assert f'data_root={extra}/' in extra_log
    # The student was distilled from the re-created teacher.
    teacher = osp.join(work, osp.basename(TEACHERS[1]))
    assert osp.isfile(teacher)
    with open(osp.join(work, 'student', 'train.log')) as f:
        assert teacher in f.read()
    with open(osp.join(out, 'results.json')) as f:
        assert json.load(f)['train_teacher']
