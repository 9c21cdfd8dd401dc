"""The demo's report beside the model zoo's cheaper student (read from a
metafile entry), the demo teacher's wiring, and the shipped-file check
the demo takes from the checkpoint loader."""
import json
import os
import os.path as osp
import re
import shutil
from argparse import Namespace

import cv2
import numpy as np
import pytest
import yaml
from conftest import ROOT, load_tool
from demo_helpers import check_shipped, zoo_entry
from demo_report import cost_text, write_report, zoo_model
from mmengine.config import Config

from distilpose import model_index

demo = load_tool('demo')
ZOO_CFG = ('configs/distilpose/synthcoco/'
           'distilpose_hrnet-w16-tiny-3stage-pool2_inference_'
           'synthcoco-128x96.py')
#: matplotlib's C3 (the zoo student's line) and C0 (the teacher's), BGR.
ZOO_BGR, TEACHER_BGR = (40, 39, 214), (180, 119, 31)


def zoo_metadata(**fields) -> dict:
    meta = {'Architecture': ['DistilPose', 'HRNet3Stage'],
            'Training Budget': '23,712 iterations of batch 16 (32 epochs)',
            'FLOPs': '3.0e7'}  # YAML reads 3.0e7 (no exponent sign) as str
    meta.update(fields)
    return meta


def write_metafile(path, metadata=None, results=None, config=ZOO_CFG):
    entry = {'Name': demo.ZOO_STUDENT_NAME, 'Config': config,
             'Metadata': metadata or zoo_metadata(),
             'Results': results if results is not None else [
                 {'Dataset': 'synthcoco val (seed 1, 200 images, '
                  'ground-truth boxes)', 'Task': 'Body 2D Keypoint',
                  'Metrics': {'AP': 0.512, 'PCK@0.2': 0.95}},
                 {'Dataset': 'synthcoco val (seed 0, 200 images, '
                  'ground-truth boxes)', 'Task': 'Body 2D Keypoint',
                  'Metrics': {'AP': 0.498, 'PCK@0.2': 0.94}}]}
    other = {'Name': 'another_model', 'Config': ZOO_CFG,
             'Results': [{'Dataset': 'x', 'Metrics': {'AP': 0.1}}]}
    with open(path, 'w') as f:
        yaml.safe_dump({'Models': [other, entry]}, f, sort_keys=False)
    return str(path)


def test_the_zoo_student_is_read_as_the_metafile_writes_it(tmp_path):
    metafile = write_metafile(tmp_path / 'metafile.yml')
    zoo = zoo_model(metafile, demo.ZOO_STUDENT_NAME, 0, 200)
    # The result on this run's val images (seed 0), not the first listed.
    assert (zoo['ap'], zoo['pck'], zoo['same_val']) == (0.498, 0.94, True)
    assert zoo['iterations'] == 23712
    assert zoo['metafile_gflops'] == pytest.approx(0.03)
    assert zoo['config'] == osp.join(ROOT, ZOO_CFG)
    # Other val images: the first result, and said to be another set.
    other = zoo_model(metafile, demo.ZOO_STUDENT_NAME, 3, 200)
    assert (other['ap'], other['same_val']) == (0.512, False)
    assert 'seed 1' in other['dataset']

    metafile = write_metafile(tmp_path / 'g.yml', zoo_metadata(
        GFLOPs=0.031, Iterations='1,000'))
    zoo = zoo_model(metafile, demo.ZOO_STUDENT_NAME, 0, 200)
    assert (zoo['metafile_gflops'], zoo['iterations']) == (0.031, 1000)


@pytest.mark.parametrize('kwargs, problem', [
    (dict(results=[]), 'no Results'),
    (dict(metadata=zoo_metadata(FLOPs='many')), 'Metadata.FLOPs'),
    (dict(config='configs/missing.py'), 'is not a file'),
])
def test_a_malformed_zoo_entry_is_named_with_its_fix(tmp_path, kwargs,
                                                     problem):
    metafile = write_metafile(tmp_path / 'metafile.yml', **kwargs)
    with pytest.raises(ValueError, match=problem) as err:
        zoo_model(metafile, demo.ZOO_STUDENT_NAME, 0, 200)
    assert demo.ZOO_STUDENT_NAME in str(err.value)


def fake_rows(work_dir) -> list:
    """The demo's three rows, and a student's and a baseline's
    validation log under ``work_dir``."""
    def row(name, title, ap, gflops):
        return dict(name=name, title=title, train_s=None if name ==
                    'teacher' else 60.0, iterations=None if name ==
                    'teacher' else 1512,
                    metrics={'coco/AP': ap, 'coco/AP .5': 0.9,
                             'coco/AR': 0.5, 'PCK': 0.9, 'EPE': 8.0},
                    params_m=1.0, gflops=gflops, gmacs_attn=gflops,
                    latency_ms=3.0)
    for name in ('student', 'baseline'):
        log = osp.join(work_dir, name, '20260101_000000', 'vis_data')
        records = [dict(loss=0.1 / e, epoch=e, step=10 * e)
                   for e in (1, 2)] + [{'coco/AP': 0.1 * e, 'PCK': 0.8,
                                        'step': e} for e in (1, 2)]
        os.makedirs(log)
        with open(osp.join(log, 'scalars.json'), 'w') as f:
            f.write('\n'.join(json.dumps(r) for r in records))
    return [row('teacher', 'TokenPose teacher', 0.68, 0.134),
            row('student', 'DistilPose student', 0.30, 0.100),
            row('baseline', 'regression baseline', 0.12, 0.100)]


def report_args(tmp_path) -> Namespace:
    (tmp_path / 'out').mkdir(exist_ok=True)
    return Namespace(out=str(tmp_path / 'out'), work_dir=str(tmp_path / 'w'),
                     train_teacher=False, train_images=2000, val_images=200,
                     data_seed=0, seed=0, epochs=None)


def pixels(png, bgr, tol=12) -> int:
    img = cv2.imread(png).astype(int)
    return int(np.count_nonzero((np.abs(img - bgr) <= tol).all(-1)))


def test_the_report_puts_the_zoo_student_beside_the_demo(tmp_path):
    args = report_args(tmp_path)
    rows = fake_rows(args.work_dir)
    zoo = zoo_model(write_metafile(tmp_path / 'metafile.yml'),
                    demo.ZOO_STUDENT_NAME, 0, 200)
    zoo.update(params_m=0.61, gflops=0.0294, gmacs_attn=0.03,
               latency_ms=1.5)
    report = open(write_report(rows, args, [], 'test', 60.0,
                               zoo=zoo)).read()
    table = {line.split(' | ')[0][2:]: line.split(' | ')
             for line in report.splitlines() if line.startswith('| ')}
    # A GFLOPs column and the share of the teacher's, on every row.
    assert table['TokenPose teacher'][9:11] == ['0.134', '100 %']
    assert table['DistilPose student'][9:11] == ['0.100', '75 %']
    assert table['regression baseline'][9:11] == ['0.100', '75 %']
    zoo_row = table['model-zoo student (metafile)']
    assert zoo_row[1] == '0.498' and zoo_row[4] == '94.0'
    assert zoo_row[6] == '23,712' and zoo_row[9:11] == ['0.029', '22 %']
    assert 'the same val images as this run' in report
    assert 'the metafile gives 0.030' in report
    with open(osp.join(args.out, 'results.json')) as f:
        assert json.load(f)['zoo_student']['ap'] == 0.498
    # Both reference lines are drawn.
    curves = osp.join(args.out, 'learning_curves.png')
    assert pixels(curves, ZOO_BGR) > 100 and pixels(curves, TEACHER_BGR) > 100


def test_the_curves_legends_give_each_models_cost():
    """The short run and the long one are compared at their cost: every
    curve's legend names its iterations and GFLOPs, the students' with
    their share of the teacher's."""
    student = dict(iterations=1512, gflops=0.100)
    assert cost_text(student, 0.134) == (
        "1,512 iterations, 0.100 GFLOPs (75 % of the teacher's)")
    assert cost_text(dict(iterations=None, gflops=0.134), None) == (
        '0.134 GFLOPs')
    assert cost_text(dict(iterations=None, gflops=None), 0.134) == ''


def test_without_the_zoo_entry_the_report_says_so_in_one_line(tmp_path):
    args = report_args(tmp_path)
    metafile = tmp_path / 'metafile.yml'
    metafile.write_text('Models:\n- Name: another_model\n')
    zoo = zoo_model(str(metafile), demo.ZOO_STUDENT_NAME, 0, 200)
    assert not zoo['found']
    report = open(write_report(fake_rows(args.work_dir), args, [], 'test',
                               60.0, zoo=zoo)).read()
    missing = [line for line in report.splitlines()
               if demo.ZOO_STUDENT_NAME in line]
    assert len(missing) == 1 and 'has no entry' in missing[0]
    assert '| model-zoo student' not in report
    curves = osp.join(args.out, 'learning_curves.png')
    assert pixels(curves, ZOO_BGR) == 0 and pixels(curves, TEACHER_BGR) > 100


def test_student_and_baseline_start_from_the_demo_teacher():
    teacher = zoo_entry(osp.join(ROOT, 'configs', demo.TEACHER_CFG),
                        demo.TEACHER_NAME)['file']
    rel = osp.relpath(teacher, ROOT)
    student, baseline = (Config.fromfile(osp.join(ROOT, 'configs',
                                                  demo.MODELS[name][1]))
                         for name in ('student', 'baseline'))
    assert student.model.teacher_ckpt == rel
    assert baseline.model.backbone.init_cfg.checkpoint == rel


def test_the_teachers_last_cycle_is_the_metafiles_command():
    """``--train-teacher``'s last cycle has the options and data of the
    stronger teacher's Training Command (its load_from aside: the demo
    loads its own re-created file)."""
    with open(osp.join(ROOT, 'configs', 'tokenpose', 'synthcoco',
                       'metafile.yml')) as f:
        entry = next(m for m in yaml.safe_load(f)['Models']
                     if m['Name'] == demo.TEACHER_NAME)['Metadata']
    words = re.split(r'[\s;]+', entry['Training Command'])
    args = Namespace(teacher_epochs=None, teacher_extra_images=8000,
                     val_images=200, teacher_extra_data='data/synthcoco_8k')
    options = demo.extra_cycle_options(args, 'x.pth')
    assert 'load_from=x.pth' in options
    train, val, _, val_ann, _ = demo.data_options('data/synthcoco_8k')
    for option in [*options, train, val, val_ann]:
        if option != 'load_from=x.pth':
            assert option in words, option
    generate = demo.extra_data_command(args).replace('python ', '', 1)
    assert generate in entry['Training Data']


def listed_copy(tmp_path, monkeypatch, sha256: str) -> str:
    """A file that a temporary model index lists with ``sha256``."""
    path = tmp_path / 'teacher.pth'
    path.write_bytes(b'weights')
    (tmp_path / 'metafile.yml').write_text(yaml.safe_dump({'Models': [{
        'Name': 'teacher', 'Weights': 'teacher.pth',
        'Metadata': {'SHA256': sha256}}]}))
    (tmp_path / 'model-index.yml').write_text('Import: [metafile.yml]\n')
    monkeypatch.setattr(model_index, 'MODEL_INDEX',
                        str(tmp_path / 'model-index.yml'))
    return str(path)


def test_the_shipped_teacher_passes_the_loaders_check():
    check_shipped(zoo_entry(osp.join(ROOT, 'configs', demo.TEACHER_CFG),
                            demo.TEACHER_NAME)['file'])


def test_a_changed_teacher_gets_the_loaders_error_and_the_demos_hint(
        tmp_path, monkeypatch):
    path = listed_copy(tmp_path, monkeypatch, '0' * 64)
    with pytest.raises(SystemExit) as err:
        check_shipped(path)
    message = str(err.value)
    # The loader's own message (one wording of the check), then the hint.
    assert 'is the model-zoo file teacher, whose sha256' in message
    assert message.endswith('`python tools/demo.py --train-teacher` '
                            '(written into the work dir).')


def test_a_missing_or_unlisted_teacher_is_refused(tmp_path, monkeypatch):
    path = listed_copy(tmp_path, monkeypatch, '0' * 64)
    with pytest.raises(SystemExit, match='missing.*--train-teacher'):
        check_shipped(str(tmp_path / 'gone.pth'))
    with pytest.raises(SystemExit, match='not listed in'):
        shutil.copy(path, tmp_path / 'unlisted.pth')
        check_shipped(str(tmp_path / 'unlisted.pth'))
