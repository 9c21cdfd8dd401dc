"""Bad input (h): a NaN loss stops training with a message naming the
iteration, and the last checkpoint on disk stays the last good one."""
import os.path as osp

import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, checkpoints, make_data, tiny_config

from distilpose.checkpoint import safe_torch_load

pytestmark = pytest.mark.usefixtures('one_thread')


def test_nan_loss_stops_before_the_broken_weights_are_saved(tmp_path):
    data = make_data(str(tmp_path / 'data'))
    work_dir = str(tmp_path / 'work')
    cfg = tiny_config('baseline', data, work_dir, max_epochs=3)
    # NaN at the last step of epoch 2: without the check, epoch_2.pth
    # would be saved right after it, with NaN weights.
    cfg.custom_hooks.append(dict(type='PoisonWeightsHook', epoch=2,
                                 batch=-1))
    runner = build_runner(cfg)
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    last = len(runner.train_dataloader)
    message = str(err.value)
    assert f'Non-finite loss at epoch 2, iteration {last} ' in message
    assert f'(global iteration {2 * last})' in message
    assert 'loss=nan' in message
    assert osp.join(work_dir, 'epoch_1.pth') in message

    assert checkpoints(work_dir) == ['epoch_1.pth']
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_1.pth')
    state = safe_torch_load(osp.join(work_dir, 'epoch_1.pth'))['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())
