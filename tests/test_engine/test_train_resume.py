"""`mim train` of a project config from another directory, and `--resume`
on torch >= 2.6 (weights_only loading) continuing with the restored
optimizer and scheduler state."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import build_from_config, config_path
from synthetic_coco import generate_dataset

from distilpose.checkpoint import safe_torch_load

pytestmark = pytest.mark.slow

TEACHER = ('tokenpose/synthcoco/'
           'tokenpose_stemnet-tiny_1xb16-30e_synthcoco-128x96.py')
STUDENT = ('distilpose/synthcoco/'
           'distilpose_stemnet-tiny_1xb16-8e_synthcoco-128x96.py')
BATCH, TRAIN_IMAGES = 4, 8


@pytest.fixture(scope='module')
def data_and_teacher(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth')
    generate_dataset(str(root / 'data'), num_train_images=TRAIN_IMAGES,
                     num_val_images=4, seed=1, workers=0, progress=False)
    teacher = build_from_config(TEACHER)
    teacher.init_weights()
    ckpt = str(root / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    return root, ckpt


def mim_train(cwd, work_dir, data, teacher_ckpt, epochs, resume=False):
    ann = osp.join(data, 'annotations', 'person_keypoints_val.json')
    cmd = [
        osp.join(osp.dirname(sys.executable), 'mim'), 'train', 'mmpose',
        config_path(STUDENT), '--work-dir', work_dir
    ] + (['--resume'] if resume else []) + [
        '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}',
        f'train_dataloader.dataset.data_root={data}/',
        f'val_dataloader.dataset.data_root={data}/',
        f'val_evaluator.0.ann_file={ann}',
        f'train_dataloader.batch_size={BATCH}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=100',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_train_from_another_directory_then_resume(data_and_teacher,
                                                  tmp_path):
    root, teacher_ckpt = data_and_teacher
    data, work_dir = str(root / 'data'), str(tmp_path / 'work')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    mim_train(str(elsewhere), work_dir, data, teacher_ckpt, epochs=2)
    ckpt2 = safe_torch_load(osp.join(work_dir, 'epoch_2.pth'))
    iters = ckpt2['meta']['iter']
    assert iters > 0 and iters % 2 == 0  # two equal epochs
    assert not any(k.startswith('teacher') for k in ckpt2['state_dict'])

    out = mim_train(str(elsewhere), work_dir, data, teacher_ckpt, epochs=3,
                    resume=True)
    assert f'resumed epoch: 2, iter: {iters}' in out
    ckpt3 = safe_torch_load(osp.join(work_dir, 'epoch_3.pth'))
    assert ckpt3['meta']['epoch'] == 3
    per_epoch = iters // 2
    assert ckpt3['meta']['iter'] == iters + per_epoch
    # Adam's step counters and the warm-up scheduler continued from epoch 2.
    steps = {int(s['step']) for s in ckpt3['optimizer']['state'].values()}
    assert steps == {iters + per_epoch}
    warmup = ckpt3['param_schedulers'][0]
    assert warmup['last_step'] == iters + per_epoch
    # The student checkpoint loads into the inference config.
    student = build_from_config(
        'distilpose/synthcoco/'
        'distilpose_stemnet-tiny_inference_synthcoco-128x96.py')
    student.load_state_dict(ckpt3['state_dict'], strict=True)
