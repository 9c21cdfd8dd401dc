"""``ChannelsLastHook``: the distiller (student and invisible teacher)
trains in channels_last with the losses of the default layout (the same
initial weights: the switch comes after initialisation), and its
checkpoint is the ordinary one."""
import math
import os.path as osp

import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, make_data, save_teacher, scalars,
                          tiny_config)

from distilpose.runtime.hooks.channels_last_hook import to_channels_last

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('nhwc')
    data = make_data(str(root / 'data'), num_train=4, num_val=2)
    return data, save_teacher(data, str(root / 'teacher.pth'))


def train(toy, work_dir, channels_last):
    data, teacher = toy
    cfg = tiny_config('student', data, work_dir, teacher_ckpt=teacher,
                      augment=False)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.val_interval = 10
    if channels_last:
        cfg.custom_hooks = list(cfg.custom_hooks) + [
            dict(type='ChannelsLastHook')]
    runner = build_runner(cfg)
    layouts = []
    model = runner.model
    for owner in (model, model.teacher):
        conv = next(m for m in owner.backbone.modules()
                    if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_pre_hook(
            lambda m, args: layouts.append(args[0].is_contiguous(
                memory_format=torch.channels_last)))
    runner.train()
    return runner, layouts


def is_nhwc(t: torch.Tensor) -> bool:
    """In channels_last (for a 1x1 kernel, or one channel, both layouts
    are the same)."""
    return t.is_contiguous(memory_format=torch.channels_last) and (
        not t.is_contiguous() or t.shape[1] == 1 or t.shape[2:] == (1, 1))


def test_the_distiller_trains_in_channels_last_with_the_same_losses(
        toy, tmp_path):
    ref_runner, ref_layouts = train(toy, str(tmp_path / 'nchw'), False)
    runner, layouts = train(toy, str(tmp_path / 'nhwc'), True)
    assert not any(ref_layouts) and layouts and all(layouts)
    model = runner.model
    for owner in (model, model.teacher):
        weights = [p for p in owner.parameters() if p.dim() == 4]
        assert weights and all(is_nhwc(w) for w in weights)
    ref, got = (scalars(r.work_dir) for r in (ref_runner, runner))
    assert len(ref) == len(got) >= 1
    for a, b in zip(ref, got):
        for key in ('loss', 'loss_kpt', 'loss_sim_heatmap'):
            assert math.isclose(a[key], b[key], rel_tol=1e-4,
                                abs_tol=1e-6), (key, a[key], b[key])
    log = open(runner.logger.log_file).read()
    assert 'the model and its input images are in channels_last' in log
    # the checkpoint: the same keys, loadable into the default layout
    ckpt = torch.load(osp.join(runner.work_dir, 'epoch_1.pth'),
                      weights_only=False)['state_dict']
    assert ckpt.keys() == ref_runner.model.state_dict().keys()
    ref_runner.model.load_state_dict(ckpt, strict=True)


def test_the_switch_is_applied_once():
    model = torch.nn.Module()
    model.backbone = torch.nn.Conv2d(3, 4, 3)
    to_channels_last(to_channels_last(model))
    assert len(model.backbone._forward_pre_hooks) == 1
    assert is_nhwc(model.backbone.weight)
    out = model.backbone(torch.randn(1, 3, 8, 8))
    assert is_nhwc(out)


class Log:
    """The runner's logger, recording."""

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(('info', msg))

    def warning(self, msg):
        self.lines.append(('warning', msg))


def test_a_model_already_in_ddp_is_switched_and_the_copy_named(tmp_path):
    """MMEngine wraps the model in DDP before hooks run: the hook still
    switches it, and says that DDP copies the gradients across layouts."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel

    from distilpose.runtime.hooks import ChannelsLastHook
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg',
                            rank=0, world_size=1)
    try:
        model = torch.nn.Module()
        model.backbone = torch.nn.Conv2d(3, 4, 3)
        runner = type('Runner', (), {})()
        runner.model = MMDistributedDataParallel(model)
        runner.logger = Log()
        hook = ChannelsLastHook()
        hook.before_train(runner)
        hook.before_val(runner)  # once only
    finally:
        dist.destroy_process_group()
    assert is_nhwc(model.backbone.weight)
    kinds = [kind for kind, _ in runner.logger.lines]
    assert kinds == ['info', 'warning'], runner.logger.lines
    assert 'wrapped in DDP before' in runner.logger.lines[1][1]
    assert 'results are unchanged' in runner.logger.lines[1][1]
