"""One safe loader on every checkpoint route.

A checkpoint whose pickle runs code (here: creates a marker file) is
refused on every route, by path, by URL from torch's hub cache and by
MMEngine's scheme names, for every consumer (MMEngine's loader behind
``load_from``/``--resume``/``mim test --checkpoint``, ``load_checkpoint``
behind ``init_model`` and ``MMPoseInferencer``, a ``Pretrained`` init, the
distiller's teacher), and end to end through ``MMPoseInferencer`` and a
training run's ``load_from`` and ``--resume``; an MMEngine training
checkpoint, a model-zoo file (``tools/publish_model.py``), a torchvision
style plain state dict and an MMPretrain classifier (``mmcls://``) load
through the same routes. A checkpoint of another model is an error, not a
warning.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, make_data, tiny_config
from loading_routes import state_dict_via, tiny_model
from mmengine.logging import MessageHub
from mmengine.runner import checkpoint as mmengine_ckpt
from mmengine.runner import load_checkpoint
from torch import nn

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose.checkpoint import (MIN_KEY_COVERAGE, CheckpointError,
                                   safe_torch_load)
from distilpose.runtime.evaluation_loading import evaluation_loading

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
URL_BASE = 'https://download.example.invalid/models/'  # never contacted


class RunsCode:
    """Unpickled, it calls ``open(marker, 'w')``: the marker file then
    exists, as any command could have run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def training_checkpoint(model: nn.Module) -> dict:
    """What MMEngine's runner saves: meta with numpy values, weights,
    optimizer state and the message hub's ``HistoryBuffer`` objects."""
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(2, 3, 3, 3)).sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance(f'safety_{id(model)}')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('epoch', np.int64(3))
    meta = dict(epoch=3, iter=30, dataset_meta=dict(
        sigmas=np.array([0.026, 0.025], np.float32), num_keypoints=2))
    return dict(meta=meta, state_dict=model.state_dict(),
                optimizer=optimizer.state_dict(),
                message_hub=hub.state_dict())


def with_hash_name(path, stem: str) -> str:
    """OpenMMLab's name for ``path``: ``stem-<first 8 hex of sha256>.pth``."""
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return f'{stem}-{digest[:8]}.pth'


@pytest.fixture
def marker(tmp_path):
    return tmp_path / 'code_ran'


@pytest.fixture
def files(tmp_path, marker):
    """{'legit': path, 'malicious': path}."""
    legit = tmp_path / 'legit.pth'
    torch.save(training_checkpoint(tiny_model()), legit)
    malicious = tmp_path / 'malicious.pth'
    torch.save(dict(state_dict=tiny_model().state_dict(),
                    meta=RunsCode(marker)), malicious)
    return dict(legit=str(legit), malicious=str(malicious))


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache under a temporary ``TORCH_HOME``."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    return cache


def as_route(route: str, path: str, hub, tmp_path, monkeypatch) -> str:
    """The name under which ``route`` reaches ``path``."""
    if route == 'path':
        return path
    name = with_hash_name(path, 'tiny')
    shutil.copy(path, hub / name)
    url = URL_BASE + name
    if route == 'url':
        return url
    if route == 'open-mmlab':
        home = tmp_path / 'mmengine_home'
        home.mkdir(exist_ok=True)
        (home / 'open_mmlab.json').write_text(json.dumps({'tiny': url}))
        monkeypatch.setenv('MMENGINE_HOME', str(home))
        return 'open-mmlab://tiny'
    tables = dict(torchvision='get_torchvision_models',
                  mmcls='get_mmcls_models')
    monkeypatch.setattr(mmengine_ckpt, tables[route], lambda: {'tiny': url})
    return f'{route}://tiny'


ROUTES = ['path', 'url', 'open-mmlab', 'torchvision']
CONSUMERS = ['mmengine_loader', 'load_checkpoint', 'pretrained_init',
             'teacher']


def test_the_malicious_file_runs_code_when_loaded_unsafely(files, marker):
    """The control: without weights_only the test file does run code."""
    torch.load(files['malicious'], weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize('consumer', CONSUMERS)
@pytest.mark.parametrize('route', ROUTES + ['mmcls'])
def test_code_in_a_checkpoint_never_runs(files, marker, hub, tmp_path,
                                         monkeypatch, route, consumer):
    name = as_route(route, files['malicious'], hub, tmp_path, monkeypatch)
    with pytest.raises(CheckpointError) as err:
        state_dict_via(consumer, name)
    message = str(err.value)
    assert not marker.exists()
    assert 'loading it could run code' in message
    assert 'builtins.open' in message or 'io.open' in message
    assert 'tools/make_checkpoint_safe.py' in message
    assert 'weights_only=False' not in message
    local = files['malicious'] if route == 'path' else str(
        hub / with_hash_name(files['malicious'], 'tiny'))
    assert local in message


@pytest.fixture(scope='module')
def kinds(tmp_path_factory):
    """A legitimate checkpoint of each kind, built once: {kind: path}."""
    root = tmp_path_factory.mktemp('kinds')
    training = root / 'legit.pth'
    torch.save(training_checkpoint(tiny_model()), training)
    plain = root / 'plain.pth'  # torchvision's: an OrderedDict of tensors
    torch.save(tiny_model().state_dict(), plain)
    zoo = root / 'zoo.pth'  # a model-zoo file: meta and weights
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'publish_model.py'),
         str(training), str(zoo)], capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(torch.load(zoo, weights_only=False)) == {'meta', 'state_dict'}
    return dict(training=str(training), torchvision=str(plain),
                model_zoo=str(zoo))


def weights_of(path: str) -> dict:
    ckpt = torch.load(path, weights_only=False)
    return ckpt.get('state_dict', ckpt)


def assert_same_state(state: dict, expected: dict) -> None:
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


@pytest.mark.parametrize('consumer', CONSUMERS)
@pytest.mark.parametrize('route', ROUTES)
@pytest.mark.parametrize('kind', ['training', 'torchvision', 'model_zoo'])
def test_a_legitimate_checkpoint_loads_on_every_route(
        kinds, hub, tmp_path, monkeypatch, kind, route, consumer):
    name = as_route(route, kinds[kind], hub, tmp_path, monkeypatch)
    assert_same_state(state_dict_via(consumer, name), weights_of(kinds[kind]))


@pytest.mark.parametrize('consumer',
                         ['mmengine_loader', 'load_checkpoint',
                          'pretrained_init'])
def test_an_mmcls_classifier_loads_as_a_backbone(hub, tmp_path, monkeypatch,
                                                 consumer):
    """``mmcls://`` names an MMPretrain classifier: its ``backbone.``
    weights load into a backbone, its head is left out (MMEngine's
    ``_process_mmcls_checkpoint``)."""
    backbone = tiny_model().state_dict()
    classifier = {f'backbone.{k}': v for k, v in backbone.items()}
    classifier['head.fc.weight'] = torch.ones(10, 2)
    path = tmp_path / 'classifier.pth'
    torch.save(dict(meta=dict(epoch=100), state_dict=classifier), path)
    name = as_route('mmcls', str(path), hub, tmp_path, monkeypatch)
    assert name == 'mmcls://tiny'
    assert_same_state(state_dict_via(consumer, name), backbone)


def test_the_whole_training_state_survives(files):
    ckpt = safe_torch_load(files['legit'])
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.current() == 0.5 and buffer.mean() == 0.5
    assert ckpt['optimizer']['state'][0]['step'] == 1
    assert ckpt['meta']['dataset_meta']['sigmas'].dtype == np.float32


def test_a_file_that_does_not_match_its_hash_is_refused(files, hub):
    name = 'tiny-0123abcd.pth'
    shutil.copy(files['legit'], hub / name)
    with pytest.raises(CheckpointError, match='does not match the hash in '
                       'its name .0123abcd'):
        mmengine_ckpt._load_checkpoint(URL_BASE + name, 'cpu')


@pytest.mark.parametrize('content', [b'', b'not a checkpoint\n'])
def test_not_a_checkpoint_is_named(tmp_path, content):
    path = tmp_path / 'weights.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_model(), str(path))
    assert str(path) in str(err.value)
    assert 'local checkpoint' in str(err.value)


def test_a_truncated_checkpoint_is_named(files, tmp_path):
    data = open(files['legit'], 'rb').read()
    path = tmp_path / 'epoch_2.pth'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        mmengine_ckpt._load_checkpoint(str(path), 'cpu')


# ------------------------------------------------------------- end to end
_INFERENCER = r'''
import sys
from mmpose.apis import MMPoseInferencer
MMPoseInferencer(pose2d=sys.argv[1], pose2d_weights=sys.argv[2],
                 det_model='whole_image', device='cpu')
'''


def test_the_inferencer_refuses_code_in_a_url_checkpoint(
        files, marker, hub, tmp_path, monkeypatch):
    """``MMPoseInferencer(pose2d_weights=<url>)`` with the file in the hub
    cache, in a fresh process as a user runs it: the config's
    ``custom_imports`` alone route the URL to the safe loader."""
    url = as_route('url', files['malicious'], hub, tmp_path, monkeypatch)
    config = str(tmp_path / 'pose.py')
    tiny_config('baseline', str(tmp_path / 'no_data'),
                str(tmp_path / 'work')).dump(config)
    env = dict(os.environ, PYTHONPATH=osp.join(ROOT, 'projects'))
    proc = subprocess.run([sys.executable, '-c', _INFERENCER, config, url],
                          env=env, capture_output=True, text=True,
                          timeout=600)
    assert not marker.exists()
    assert proc.returncode == 1, proc.stderr[-3000:]
    error = proc.stderr.strip().splitlines()[-1]
    cached = hub / url.rsplit('/', 1)[1]
    assert error.startswith(f'distilpose.checkpoint.CheckpointError: Cannot '
                            f'load {cached} (checkpoint URL)'), error
    assert 'loading it could run code' in error


@pytest.fixture(scope='module')
def toy_data(tmp_path_factory):
    # 4 val images: the first 2 of seed 0 hold no person (an empty val set
    # fails to build before the checkpoint is read).
    return make_data(str(tmp_path_factory.mktemp('data')), num_train=4,
                     num_val=4)


@pytest.mark.usefixtures('one_thread')
@pytest.mark.parametrize('route', ['load_from', 'resume'])
def test_a_training_run_refuses_code_in_its_checkpoint(
        files, marker, hub, toy_data, tmp_path, monkeypatch, route):
    """``load_from=<url>`` (file in the hub cache) and ``--resume`` from a
    work dir whose newest checkpoint carries code: the run stops before
    any step, nothing ran."""
    work_dir = tmp_path / 'work'
    cfg = tiny_config('baseline', toy_data, str(work_dir))
    if route == 'load_from':
        cfg.load_from = as_route('url', files['malicious'], hub, tmp_path,
                                 monkeypatch)
        planted = str(hub / cfg.load_from.rsplit('/', 1)[1])
    else:
        work_dir.mkdir()
        planted = str(work_dir / 'epoch_1.pth')
        shutil.copy(files['malicious'], planted)
        (work_dir / 'last_checkpoint').write_text(planted)
        cfg.resume = True  # what --resume sets
    with pytest.raises(CheckpointError) as err:
        build_runner(cfg).train()
    assert not marker.exists()
    assert str(err.value).startswith(f'Cannot load {planted}')
    assert 'loading it could run code' in str(err.value)
    assert glob.glob(str(work_dir / '*.pth')) == (
        [planted] if route == 'resume' else [])  # no checkpoint written


# ------------------------------------------------------------ key coverage
def test_a_checkpoint_of_another_model_is_an_error(tmp_path):
    other = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_model(), str(path), map_location='cpu')
    message = str(err.value)
    assert str(path) in message
    # 0.weight and 0.bias exist in both, with other shapes
    assert 'matches 0 of the 8 keys of Sequential' in message
    assert f'at least {MIN_KEY_COVERAGE:.0%} are needed' in message
    # In the model's order, whatever the process's string-hash seed (a set's
    # order once decided which six of the eight prefixes were shown)
    assert ('missing (8): 0.weight (1), 0.bias (1), 1.weight (1), 1.bias (1), '
            '1.running_mean (1), 1.running_var (1), ... (+2 more prefixes)'
            in message)
    assert 'unexpected (2): 2.weight (1), 2.bias (1)\n' in message


def test_a_partial_checkpoint_above_the_threshold_loads(tmp_path):
    model = tiny_model()
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith('3.')}  # all but the last layer
    path = tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=state), path)
    fresh = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                          nn.Flatten(), nn.Linear(4, 2))
    load_checkpoint(fresh, str(path), map_location='cpu')
    assert torch.equal(fresh[0].weight, model[0].weight)


def test_evaluation_needs_every_key_where_training_may_start_from_part(
        tmp_path):
    """A head of another shape: ``load_checkpoint`` (a fine-tune start)
    loads the rest with MMEngine's warning; within evaluation_loading it
    is refused, naming the key."""
    model = tiny_model()
    path = tmp_path / 'three_outputs.pth'
    other = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                          nn.Flatten(), nn.Linear(4, 3))
    torch.save(dict(state_dict=other.state_dict()), path)
    load_checkpoint(model, str(path), map_location='cpu')
    assert torch.equal(model[0].weight, other[0].weight)
    with evaluation_loading(), pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_model(), str(path), map_location='cpu')
    assert str(err.value) == (
        f'The checkpoint {path} leaves part of Sequential at its random '
        'initialisation, so its results would be meaningless:\n'
        '  other shapes, file vs model (2): 3.weight (3, 4) vs (2, 4), '
        '3.bias (3,) vs (2,)\n'
        '  Test and run a checkpoint with the config it was trained with '
        "(e.g. a regression baseline with its own config, not its "
        "student's).")


@pytest.mark.usefixtures('one_thread')
def test_testing_or_running_a_checkpoint_of_another_head_is_refused(
        toy_data, tmp_path):
    """A regression baseline's checkpoint (2 outputs a keypoint) given to
    the config of a head with score and sigma outputs (5): ``mim test``'s
    runner, ``init_model`` and the inferencer refuse it before any result
    (MMEngine scored the random head: AP 0)."""
    from mmengine.registry import init_default_scope
    from mmpose.apis import MMPoseInferencer, init_model
    from mmpose.registry import MODELS
    cfg = tiny_config('baseline', toy_data, str(tmp_path / 'work'))
    init_default_scope('mmpose')
    path = str(tmp_path / 'baseline.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), path)
    cfg.model.head.update(with_score=True, with_sigma=True)
    cfg.load_from = path
    expected = (f'The checkpoint {path} leaves part of TopdownPoseEstimator '
                'at its random initialisation')
    with pytest.raises(CheckpointError, match='head.fc.weight') as err:
        build_runner(cfg).test()
    assert str(err.value).startswith(expected)
    assert not glob.glob(str(tmp_path / 'work' / '*' / '*.json'))
    cfg_path = str(tmp_path / 'five_outputs.py')
    cfg.dump(cfg_path)
    for run in (lambda: init_model(cfg_path, path, device='cpu'),
                lambda: MMPoseInferencer(pose2d=cfg_path,
                                         pose2d_weights=path,
                                         device='cpu')):
        with pytest.raises(CheckpointError) as err:
            run()
        assert str(err.value).startswith(expected)


# ------------------------------------------------------------------ import
_SNAPSHOT = r'''
import json, sys, types
import mmpose.models, mmpose.datasets, mmpose.evaluation, mmpose.apis
import mmengine.runner, mmengine.model, mmengine.dist, mmengine.fileio
import torch

def snapshot():
    """Every attribute of every loaded mmengine/mmpose/torch module and of
    the classes defined there, by identity."""
    objects = {}
    for name, module in list(sys.modules.items()):
        if name.split('.')[0] not in ('mmengine', 'mmpose', 'torch') or \
                module is None:
            continue
        for attr, value in list(vars(module).items()):
            objects[f'{name}.{attr}'] = value
            if isinstance(value, type) and value.__module__ == name:
                for cattr, cvalue in list(vars(value).items()):
                    objects[f'{name}.{attr}.{cattr}'] = cvalue
    return objects

def changed(before):
    after = snapshot()
    return sorted(k for k, v in before.items()
                  if k in after and after[k] is not v)

safe_globals = list(torch.serialization.get_safe_globals())
before = snapshot()
import distilpose
after_package = changed(before)
package_globals = list(torch.serialization.get_safe_globals())
import distilpose.runtime.mmengine_patches as mmengine_patches
print(json.dumps(dict(
    package=after_package, compat=changed(before),
    globals_unchanged=safe_globals == package_globals ==
    list(torch.serialization.get_safe_globals()),
    reported=sorted(f'{o.__module__}.{getattr(o, "__qualname__", "")}.{a}'
                    if isinstance(o, type) else f'{o.__name__}.{a}'
                    for o, a in mmengine_patches.patched_attributes()))))
'''


def test_import_distilpose_patches_nothing_and_compat_opts_in():
    env = dict(os.environ, PYTHONPATH=osp.join(ROOT, 'projects'))
    proc = subprocess.run([sys.executable, '-c', _SNAPSHOT], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['package'] == []
    assert result['globals_unchanged']
    # Every replacement is reported; those of the loading fixes by name
    # (the other sections' own tests name theirs).
    assert set(result['compat']) == set(result['reported'])
    loading = {
        'mmengine.runner.checkpoint.load_from_http',
        'mmengine.runner.checkpoint.load_state_dict',
        'mmengine.runner.checkpoint._load_checkpoint_with_prefix',
        'mmengine.runner.checkpoint.CheckpointLoader._schemes',
        'mmpose.datasets.datasets.base.base_coco_style_dataset.'
        'BaseCocoStyleDataset._load_annotations',
    }
    assert loading <= set(result['compat'])
    assert not [name for name in result['compat'] if name.startswith(
        'mmengine.runner.checkpoint.') and name not in loading]


def test_every_config_opts_in_through_the_runtime_base():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_',
                                   'default_runtime.py'))
    assert cfg.custom_imports['imports'] == [
        'distilpose', 'distilpose.runtime.mmengine_patches'
    ]


# ------------------------------------------------ explicit, trusted copies
def test_a_file_with_a_scripts_args_is_converted_once_to_a_safe_one(
        tmp_path):
    import argparse
    src, dst = tmp_path / 'trusted.pth', tmp_path / 'safe.pth'
    state = tiny_model().state_dict()
    torch.save(dict(state_dict=state,
                    meta=dict(epoch=3, args=argparse.Namespace(lr=0.1))),
               src)
    with pytest.raises(CheckpointError) as err:
        safe_torch_load(str(src))
    # argparse.Namespace is a plain type: converted without running code
    assert '(here argparse.Namespace)' in str(err.value)
    assert 'runs none of its code' in str(err.value)
    assert '--allow-code-execution' not in str(err.value)
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'make_checkpoint_safe.py'),
         str(src), str(dst)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'without restrictions' not in proc.stdout
    assert "dropped checkpoint['meta']['args'] (argparse.Namespace)" \
        in proc.stdout
    copy = safe_torch_load(str(dst))
    assert copy['meta'] == dict(epoch=3)
    for key, value in state.items():
        assert torch.equal(copy['state_dict'][key], value), key


def test_export_onnx_names_a_file_that_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / 'notes.pth'
    bad.write_text('not a checkpoint')
    out = tmp_path / 'model.onnx'
    config = osp.join(ROOT, 'configs', 'distilpose', 'synthcoco',
                      'distilpose_stemnet-tiny_inference_synthcoco-128x96.py')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'export_onnx.py'), config,
         str(out), '--checkpoint', str(bad)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith(f'error: Cannot load {bad} (local checkpoint)')
    assert 'not a PyTorch checkpoint' in error
    assert 'weights_only=False' not in proc.stderr
    assert not out.exists()
