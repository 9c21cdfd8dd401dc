"""``CompileNetworkHook``: ``torch.compile`` on the network parts of the
distiller (student and teacher) trains with the losses of eager mode and
leaves checkpoints as they are; a model it cannot compile is refused."""
import math

import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import (build_runner, make_data, save_teacher, scalars,
                          tiny_config)

from distilpose.runtime.hooks.compile_network_hook import compile_network

pytestmark = pytest.mark.usefixtures('one_thread')


def test_a_model_without_a_network_is_refused():
    with pytest.raises(TypeError, match=r'the model \(Linear\) has no '
                       'extract_feat and head.*Remove the hook'):
        compile_network(torch.nn.Linear(2, 2))


@pytest.mark.slow
def test_the_compiled_distiller_trains_like_eager(tmp_path):
    """About a minute on two cores: the first step compiles."""
    data = make_data(str(tmp_path / 'data'), num_train=4, num_val=2)
    teacher = save_teacher(data, str(tmp_path / 'teacher.pth'))
    runners = {}
    for name in ('eager', 'compiled'):
        cfg = tiny_config('student', data, str(tmp_path / name),
                          teacher_ckpt=teacher, augment=False)
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.train_cfg.val_interval = 10
        if name == 'compiled':
            cfg.custom_hooks = list(cfg.custom_hooks) + [
                dict(type='CompileNetworkHook')]
        runners[name] = build_runner(cfg)
        runners[name].train()
    model = runners['compiled'].model
    for owner in (model, model.teacher):
        assert hasattr(owner.extract_feat, '_torchdynamo_orig_callable')
    ref, got = (scalars(runners[n].work_dir) for n in ('eager', 'compiled'))
    assert len(ref) == len(got) >= 1
    for a, b in zip(ref, got):
        for key in ('loss', 'loss_kpt', 'loss_kpt_token', 'loss_sim_heatmap'):
            assert math.isclose(a[key], b[key], rel_tol=1e-3,
                                abs_tol=1e-6), (key, a[key], b[key])
    log = open(runners['compiled'].logger.log_file).read()
    assert 'torch.compile on model.extract_feat, model.head.forward, ' \
        'teacher.extract_feat, teacher.head.forward' in log
    assert model.state_dict().keys() == \
        runners['eager'].model.state_dict().keys()
