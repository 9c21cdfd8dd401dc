"""Model files are checked where they are loaded, and refusals say why.

Every route (MMEngine's loader behind ``load_from``, ``--resume`` and
``mim test --checkpoint``; ``load_checkpoint`` behind ``init_model`` and
``MMPoseInferencer``; a ``Pretrained`` init; the distiller's teacher)
refuses weights holding NaN, inf or absurd magnitudes, naming the tensors;
refuses a model-zoo file whose sha256 is not its metafile's; names the
file a key-coverage error is about, passed with the state dict; and names
the global a code-carrying pickle needs, without torch's advice to switch
safety off. ``tools/make_checkpoint_safe.py`` converts real checkpoints
without running code and refuses anything else by name unless told
``--allow-code-execution``.
"""
import copy
import io
import os
import os.path as osp
import shutil
import struct
import subprocess
import sys
import zipfile

import pytest
import torch
import yaml
from engine_utils import one_thread  # noqa: F401  (fixture)
from engine_utils import build_runner, make_data, tiny_config
from loading_routes import load_via, tiny_model
from mmengine.model.weight_init import PretrainedInit
from mmengine.runner import checkpoint as mmengine_ckpt
from mmengine.runner import load_checkpoint
from torch import nn

# The configs' opt-in fixes to MMEngine:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose import model_index
from distilpose.checkpoint import (CheckpointError, load_checkpoint_file,
                                   read_state_dict, safe_torch_load, source_of,
                                   torch_reason)
from distilpose.fileio import sha256sum
from distilpose.weight_check import MAX_ABS_WEIGHT

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STUDENT = osp.join('model_zoo', 'synthcoco',
                   'distilpose_hrnet-w16-tiny-3stage_1xb16-8e_synthcoco-'
                   '128x96.pth')
STUDENT_CFG = osp.join(ROOT, 'configs', 'distilpose', 'synthcoco',
                       'distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-'
                       '128x96.py')
URL = 'https://download.example.invalid/models/student.pth'  # not contacted
TOOL = osp.join(ROOT, 'tools', 'make_checkpoint_safe.py')
# What torch's unpickling errors say to switch safety off.
TORCH_ADVICE = ('weights_only=False', 'set to `False`', 'Re-running',
                'add_safe_globals', 'safe_globals(')


CONSUMERS = ['mmengine_loader', 'load_checkpoint', 'pretrained_init',
             'pretrained_prefix', 'teacher']


def save_tiny(path, state=None, prefix='net.') -> str:
    """A checkpoint of :func:`tiny_model` (keys under ``prefix`` too, for
    a Pretrained init with a prefix)."""
    state = tiny_model().state_dict() if state is None else state
    state.update({prefix + k: v for k, v in list(state.items())})
    torch.save(dict(meta=dict(epoch=1), state_dict=state), path)
    return str(path)


def flip_exponent_byte(path) -> str:
    """Flip the top exponent bit of the first ordinary float32 weight in
    the first tensor record of the torch zip ``path`` (in place): the file
    stays a valid archive and the weight becomes about 1e36 to 1e38.
    Returns the key of the damaged tensor."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist()
                    if i.filename.endswith('/data/0'))
    with open(path, 'r+b') as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_len, extra_len = struct.unpack('<HH', header[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start)
        data = f.read(min(info.file_size, 256))
        count = len(data) // 4
        floats = struct.unpack(f'<{count}f', data[:4 * count])
        i = next(i for i, v in enumerate(floats) if 1e-3 < abs(v) < 10)
        f.seek(start + 4 * i + 3)
        high = f.read(1)[0]
        f.seek(start + 4 * i + 3)
        f.write(bytes([high ^ 0x40]))
    state = torch.load(path, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    (key, ) = [k for k, v in state.items()
               if v.is_floating_point() and not v.abs().amax() <= 1e30]
    return key


@pytest.fixture
def damaged_student(tmp_path):
    """A copy of the shipped student with one flipped exponent byte;
    (path, key of the damaged tensor)."""
    path = tmp_path / 'student.pth'
    shutil.copy(osp.join(ROOT, STUDENT), path)
    return str(path), flip_exponent_byte(path)


# ----------------------------------------------------------- weight values
def test_a_flipped_exponent_byte_makes_a_weight_absurd(damaged_student):
    """The control: the damaged copy unpickles fine, with a weight of
    magnitude above 1e30 (NaN keypoints without the check)."""
    path, key = damaged_student
    state = torch.load(path, weights_only=True)['state_dict']
    assert float(state[key].abs().max()) > MAX_ABS_WEIGHT


def test_init_model_refuses_the_damaged_student(damaged_student):
    from mmpose.apis import init_model
    path, key = damaged_student
    with pytest.raises(CheckpointError) as err:
        init_model(STUDENT_CFG, path, device='cpu')
    message = str(err.value)
    assert message.startswith(f'Cannot use {path} (local checkpoint): 1 of '
                              'its 183 weight tensors hold values no trained '
                              'model has')
    assert f'state_dict.{key} (1 of magnitude up to ' in message
    assert 'use an intact copy' in message


def test_the_inferencer_refuses_the_damaged_student(damaged_student):
    from mmpose.apis import MMPoseInferencer
    path, key = damaged_student
    with pytest.raises(CheckpointError, match=f'state_dict.{key} '):
        MMPoseInferencer(pose2d=STUDENT_CFG, pose2d_weights=path,
                         det_model='whole_image', device='cpu')


@pytest.mark.parametrize('consumer', CONSUMERS)
@pytest.mark.parametrize('value,shown', [
    (float('nan'), '1 NaN of 108 values'), (float('-inf'), '1 inf of 108'),
    (4.3e37, '1 of magnitude up to 4.3e+37 of 108 values')])
def test_non_finite_weights_are_refused_on_every_route(
        tmp_path, consumer, value, shown):
    state = tiny_model().state_dict()
    for key in ('0.weight', '1.running_var'):  # a parameter and a buffer
        state[key] = state[key].clone()
        state[key].view(-1)[0] = value
    path = save_tiny(tmp_path / 'damaged.pth', state)
    with pytest.raises(CheckpointError) as err:
        load_via(consumer, path)
    message = str(err.value)
    assert message.startswith(f'Cannot use {path} (')
    # the keys, with and without the prefix, and the count
    assert '4 of its 18 weight tensors' in message
    assert f'state_dict.0.weight ({shown}' in message
    assert 'state_dict.1.running_var (' in message
    assert 'state_dict.net.0.weight (' in message


def test_large_but_possible_values_and_other_state_load(tmp_path):
    state = tiny_model().state_dict()
    state['1.running_var'] = torch.full((4, ), 1e6)
    state['0.weight'] = state['0.weight'].half()
    state['0.weight'].view(-1)[0] = 6e4
    path = tmp_path / 'fine.pth'
    torch.save(dict(state_dict=state, optimizer=dict(
        state={0: dict(exp_avg=torch.tensor([float('nan')]))})), path)
    loaded = load_checkpoint_file(str(path))
    assert loaded['state_dict']['1.running_var'][0] == 1e6


# --------------------------------------------------------------- model zoo
@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A model index listing a copy of the shipped student at
    ``model_zoo/student.pth`` and the same file as :data:`URL`, both with
    the shipped sha256 (the metafile's location monkeypatched)."""
    root = tmp_path / 'repo'
    (root / 'model_zoo').mkdir(parents=True)
    (root / 'configs').mkdir()
    listed = root / 'model_zoo' / 'student.pth'
    shutil.copy(osp.join(ROOT, STUDENT), listed)
    sha = sha256sum(str(listed))
    models = [dict(Name='student', Weights='model_zoo/student.pth',
                   Metadata=dict(SHA256=sha)),
              dict(Name='student-url', Weights=URL,
                   Metadata=dict(SHA256=sha))]
    (root / 'configs' / 'metafile.yml').write_text(
        yaml.safe_dump(dict(Models=models)))
    (root / 'model-index.yml').write_text(
        yaml.safe_dump(dict(Import=['configs/metafile.yml'])))
    monkeypatch.setattr(model_index, 'MODEL_INDEX',
                        str(root / 'model-index.yml'))
    hub = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    shutil.copy(listed, hub / 'student.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    return dict(path=str(listed), cached=str(hub / 'student.pth'), sha=sha,
                metafile=str(root / 'configs' / 'metafile.yml'))


@pytest.mark.parametrize('consumer', ['mmengine_loader', 'load_checkpoint',
                                      'teacher'])
@pytest.mark.parametrize('route', ['path', 'url'])
def test_a_changed_model_zoo_file_is_refused_on_every_route(
        zoo, consumer, route):
    target = zoo['path'] if route == 'path' else zoo['cached']
    name = target if route == 'path' else URL
    load_checkpoint_file(name)  # intact: loads
    flip_exponent_byte(target)
    actual = sha256sum(target)
    with pytest.raises(CheckpointError) as err:
        load_via(consumer, name)
    message = str(err.value)
    assert message.startswith(f'{target} is the model-zoo file student')
    assert f'whose sha256 in {zoo["metafile"]} is {zoo["sha"]}' in message
    assert f'but the file has sha256 {actual}' in message
    if route == 'path':
        assert 'git checkout -- model_zoo/student.pth' in message
    else:
        assert f'download it again from {URL}' in message


def test_a_model_zoo_file_is_hashed_once_per_version(zoo, monkeypatch):
    calls = []
    monkeypatch.setattr(model_index, 'sha256sum',
                        lambda p: calls.append(p) or sha256sum(p))
    for _ in range(3):
        load_checkpoint_file(zoo['path'])
    assert len(calls) == 1
    flip_exponent_byte(zoo['path'])
    os.utime(zoo['path'], ns=(0, 10**9))  # a new version whatever the clock
    with pytest.raises(CheckpointError, match='is the model-zoo file'):
        load_checkpoint_file(zoo['path'])
    assert len(calls) == 2


def test_the_shipped_zoo_is_checked_and_its_files_load():
    entry = model_index.zoo_entry(osp.join(ROOT, STUDENT))
    assert entry['sha256'] == sha256sum(osp.join(ROOT, STUDENT))
    assert entry['metafile'].endswith(
        osp.join('configs', 'distilpose', 'synthcoco', 'metafile.yml'))
    load_checkpoint_file(osp.join(ROOT, STUDENT))


def test_an_unreadable_model_index_is_named(tmp_path, monkeypatch):
    index = tmp_path / 'model-index.yml'
    index.write_text('Import: [configs/missing/metafile.yml]\n')
    monkeypatch.setattr(model_index, 'MODEL_INDEX', str(index))
    with pytest.warns(UserWarning, match='loaded without their sha256'):
        assert model_index.zoo_entry(str(tmp_path / 'x.pth')) is None


# ------------------------------------------------ the file in key errors
def other_model_file(tmp_path) -> str:
    other = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={f'module.{k}': v for k, v in
                                other.state_dict().items()}), path)
    return str(path)


@pytest.mark.parametrize('route', ['load_checkpoint', 'runner',
                                   'pretrained_prefix'])
def test_a_key_coverage_error_names_the_file_it_is_about(tmp_path, route):
    path = other_model_file(tmp_path)
    teacher = save_tiny(tmp_path / 'teacher.pth')
    read_state_dict(teacher, role='teacher')  # read last, not loaded
    model = tiny_model()
    with pytest.raises(CheckpointError) as err:
        if route == 'load_checkpoint':
            load_checkpoint(model, path)
        elif route == 'runner':  # Runner.load_checkpoint, the inferencers
            checkpoint = mmengine_ckpt._load_checkpoint(path)
            mmengine_ckpt._load_checkpoint_to_model(model, checkpoint)
        else:
            PretrainedInit(checkpoint=path, prefix='module.')(model)
    assert str(err.value).startswith(f'The checkpoint {path} matches 0 of')


def test_a_state_dict_from_no_file_names_no_file(tmp_path):
    read_state_dict(save_tiny(tmp_path / 'teacher.pth'), role='teacher')
    with pytest.raises(CheckpointError) as err:
        mmengine_ckpt.load_state_dict(tiny_model(), {'x': torch.ones(1)})
    assert str(err.value).startswith('The state dict matches 0 of')


def test_a_loaded_state_dict_saved_again_records_no_path(tmp_path):
    path = save_tiny(tmp_path / 'tiny.pth')
    checkpoint = load_checkpoint_file(path)
    assert source_of(checkpoint['state_dict']) == path
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    assert str(tmp_path).encode() not in buffer.getvalue()
    copy = tmp_path / 'copy.pth'
    copy.write_bytes(buffer.getvalue())
    assert source_of(safe_torch_load(str(copy))['state_dict']) is None


# ------------------------------------------------------ refusing pickles
class CustomThing:
    """A class of a training script: no checkpoint format has it."""


class RunsCommand:
    """Unpickled, it runs ``touch marker`` through ``os.system``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


CUSTOM = f'{CustomThing.__module__}.{CustomThing.__qualname__}'


@pytest.fixture
def pickles(tmp_path):
    """{'custom': path, 'system': path, 'marker': path}."""
    state = tiny_model().state_dict()
    custom, system = tmp_path / 'custom.pth', tmp_path / 'system.pth'
    torch.save(dict(state_dict=state, meta=dict(obj=CustomThing())), custom)
    marker = tmp_path / 'code_ran'
    torch.save(dict(state_dict=state, meta=RunsCommand(marker)), system)
    return dict(custom=str(custom), system=str(system), marker=marker)


@pytest.mark.parametrize('listing', ['structured', 'from_the_error_text'])
@pytest.mark.parametrize('kind,name', [('custom', CUSTOM),
                                       ('system', 'posix.system')])
def test_a_code_pickle_is_refused_naming_the_global(
        pickles, monkeypatch, kind, name, listing):
    if listing == 'from_the_error_text':
        monkeypatch.delattr(torch.serialization,
                            'get_unsafe_globals_in_checkpoint')
    path = pickles[kind]
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_model(), path)
    message = str(err.value)
    assert not pickles['marker'].exists()
    assert message.startswith(f'Cannot load {path} (local checkpoint)')
    assert f'(here {name}): loading it could run code' in message
    assert (f'`python tools/make_checkpoint_safe.py {path} <safe.pth> '
            '--allow-code-execution`') in message
    assert not [advice for advice in TORCH_ADVICE if advice in message]


@pytest.mark.parametrize('text', [
    'Weights only load failed. Re-running `torch.load` with `weights_only` '
    'set to `False` will likely succeed, but it can result in arbitrary '
    'code execution. Do it only if you got the file from a trusted source.'
    '\n\n\nTrying to load unsupported GLOBAL posix.system whose module posix '
    'is blocked.\n\nCheck the documentation of torch.load to learn more.',
    'Weights only load failed. This file can still be loaded, to do so you '
    'have two options.\n\t(1) Re-running `torch.load` with `weights_only` '
    'set to `False` will likely succeed.\n\tWeightsUnpickler error: '
    'Unsupported global: GLOBAL posix.system was not an allowed global by '
    'default. Please use `torch.serialization.add_safe_globals([system])`.'])
def test_torchs_advice_to_switch_safety_off_is_never_repeated(text):
    reason = torch_reason(pickle_error(text))
    assert 'posix.system' in reason
    assert not [advice for advice in TORCH_ADVICE if advice in reason]


def pickle_error(text):
    import pickle
    return pickle.UnpicklingError(text)


# ------------------------------------------------ make_checkpoint_safe.py
def convert(src, dst, *flags):
    return subprocess.run([sys.executable, TOOL, str(src), str(dst),
                           *flags], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """``epoch_1.pth`` of a real toy training run (MMEngine's runner)."""
    root = tmp_path_factory.mktemp('run')
    # 4 val images: the first 2 of seed 0 hold no person
    data = make_data(str(root / 'data'), num_train=4, num_val=4)
    cfg = tiny_config('baseline', data, str(root / 'work'))
    cfg.train_cfg.val_interval = 2  # no validation
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        build_runner(cfg).train()
    finally:
        torch.set_num_threads(threads)
    return cfg, str(root / 'work' / 'epoch_1.pth')


def test_a_real_training_checkpoint_converts_without_running_code(
        runner_checkpoint, tmp_path):
    _, src = runner_checkpoint
    dst = tmp_path / 'safe.pth'
    proc = convert(src, dst)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'without restrictions' not in proc.stdout
    assert '(0 entries dropped)' in proc.stdout
    original, copy = safe_torch_load(src), safe_torch_load(str(dst))
    assert set(copy) == set(original)
    assert copy['meta']['epoch'] == original['meta']['epoch'] == 1
    for key, value in original['state_dict'].items():
        assert torch.equal(copy['state_dict'][key], value), key
    assert copy['message_hub']['log_scalars'].keys() == \
        original['message_hub']['log_scalars'].keys()


@pytest.mark.parametrize('kind', ['custom', 'system'])
def test_the_converter_refuses_code_by_name_without_running_it(
        pickles, tmp_path, kind):
    dst = tmp_path / 'safe.pth'
    proc = convert(pickles[kind], dst)
    assert proc.returncode == 1
    name = CUSTOM if kind == 'custom' else 'posix.system'
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith(f'error: {pickles[kind]} pickles {name}: not a '
                            'type that checkpoints hold')
    assert 'Nothing was converted or run' in error
    assert 'run again with --allow-code-execution' in error
    assert not pickles['marker'].exists()
    assert not dst.exists()


def test_running_the_files_code_takes_the_explicit_flag(pickles, tmp_path):
    dst = tmp_path / 'safe.pth'
    proc = convert(pickles['system'], dst, '--allow-code-execution')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'runs any code it carries' in proc.stdout
    assert pickles['marker'].exists()  # it did what the flag says
    copy = safe_torch_load(str(dst))
    assert copy['meta'] == 0  # the exit status of the command it ran
    assert copy['state_dict'].keys() == tiny_model().state_dict().keys()


# ------------------------------------------------------- a training run
@pytest.mark.usefixtures('one_thread')
def test_a_test_run_refuses_a_damaged_checkpoint(runner_checkpoint,
                                                 tmp_path):
    """``mim test --checkpoint`` (MMEngine's ``load_from``) of a real
    training checkpoint with a NaN weight stops before any evaluation."""
    cfg, src = runner_checkpoint
    checkpoint = safe_torch_load(src)
    key = next(iter(checkpoint['state_dict']))
    checkpoint['state_dict'][key].view(-1)[0] = float('nan')
    damaged = tmp_path / 'epoch_1.pth'
    torch.save(checkpoint, damaged)
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(tmp_path / 'test')
    cfg.experiment_name = cfg.visualizer.name = f'{cfg.experiment_name}_test'
    cfg.load_from = str(damaged)
    with pytest.raises(CheckpointError) as err:
        build_runner(cfg).test()
    assert str(err.value).startswith(f'Cannot use {damaged} (local '
                                     'checkpoint): 1 of its')
    assert f'state_dict.{key} (1 NaN of ' in str(err.value)
