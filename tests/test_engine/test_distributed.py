"""Distributed training: DistSyncBN equals BatchNorm on the whole
batch, and ``torchrun --nproc_per_node=2`` of the distillation config
trains like one process with the same total batch."""
import json
import os.path as osp
import sys

import pytest
import torch
import torch.multiprocessing as mp
from engine_utils import (checkpoints, dump, make_data, run, save_teacher,
                          scalars, tiny_config, train_cmd)
from engine_workers import dist_sync_bn_worker
from mmpose.registry import DATASETS

TORCHRUN = osp.join(osp.dirname(sys.executable), 'torchrun')


def test_dist_sync_bn_equals_batchnorm_on_the_whole_batch(tmp_path):
    # spawn, not fork: a fork of a process whose OpenMP pool is running
    # can deadlock (engine_workers keeps the spawned imports light).
    mp.spawn(dist_sync_bn_worker,
             args=(2, str(tmp_path / 'init'), str(tmp_path)), nprocs=2)
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]

    torch.manual_seed(0)  # the workers' batch, loss weights and affine
    x = torch.randn(8, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn_like(x)
    bn = torch.nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    out = bn(x)
    (out * w).sum().backward()

    def cat(key):
        return torch.cat([r[key] for r in ranks])

    assert torch.allclose(cat('out'), out, atol=1e-12)
    assert torch.allclose(cat('x_grad'), x.grad, atol=1e-12)
    for name in ('weight', 'bias'):
        local = sum(r[f'{name}_grad'] for r in ranks)
        assert torch.allclose(local, getattr(bn, name).grad, atol=1e-12)
    for r in ranks:
        for key, value in bn.state_dict().items():
            assert torch.allclose(r['state'][key].double(),
                                  value.double(), atol=1e-12), key
    bn.eval()
    assert torch.allclose(cat('eval_out'), bn(x).detach(), atol=1e-12)


@pytest.mark.slow
def test_torchrun_two_processes_train_like_one(tmp_path):
    """gloo on the CPU; every rank loads the teacher (their losses include
    the distillation terms), the logged mean losses match a one-process run
    with the same total batch, rank 0 alone writes checkpoints, validation
    gathers the predictions of both ranks."""
    data = make_data(str(tmp_path / 'data'), num_train=8, num_val=6)
    teacher = save_teacher(data, str(tmp_path / 'teacher.pth'))
    runs = {}
    for name, batch in (('two', 2), ('one', 4)):
        work_dir = str(tmp_path / name)
        cfg = tiny_config('student', data, work_dir, batch_size=batch,
                          teacher_ckpt=teacher, augment=False)
        # Every prediction is written (no OKS-NMS), so the file of rank 0
        # holds one per val instance if the ranks' results were gathered.
        cfg.val_evaluator.update(outfile_prefix=osp.join(work_dir, 'preds'),
                                 nms_mode='none')
        config = dump(cfg, str(tmp_path / f'{name}.py'))
        # The commands of the CPU example in docs/training.md.
        sync_bn = ['--cfg-options', 'model.backbone.norm_cfg.type=DistSyncBN']
        if name == 'two':
            args = [TORCHRUN, '--standalone', '--nproc_per_node=2',
                    *train_cmd(config, '--launcher', 'pytorch', *sync_bn)[1:]]
        else:
            args = train_cmd(config, *sync_bn)
        proc = run(args, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[name] = work_dir

    two, one = (scalars(runs[n]) for n in ('two', 'one'))
    # The first steps (before DefaultSampler's round-up of the last batch).
    assert len(two) >= 3
    for a, b in zip(two[:3], one[:3]):
        losses = [k for k in b if k.startswith('loss')]
        assert {'loss_kpt', 'loss_kpt_token', 'loss_sim_heatmap'} <= set(a)
        for key in losses:
            assert abs(a[key] - b[key]) <= 1e-5, (key, a[key], b[key])

    assert checkpoints(runs['two']) == ['epoch_1.pth']
    num_val = len(DATASETS.build(cfg.val_dataloader.dataset))
    assert num_val >= 2
    for work_dir in runs.values():
        with open(osp.join(work_dir, 'preds.keypoints.json')) as f:
            assert len(json.load(f)) == num_val
