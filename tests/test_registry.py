"""Every ``type=`` a project config names resolves once ``distilpose`` is
imported, and the configs' models build."""
import glob
import os.path as osp

import pytest
from conftest import CONFIGS
from mmengine.config import Config

import distilpose  # noqa: F401  (registers the project's components)

ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIGS)
    for p in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    if '_base_' not in p)


def iter_types(node):
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield node['type']
        for value in node.values():
            yield from iter_types(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from iter_types(value)


def resolves(name: str) -> bool:
    import mmpose.registry as registries
    from mmengine.registry import Registry
    for reg in vars(registries).values():
        if isinstance(reg, Registry) and reg.get(name) is not None:
            return True
    return False


def test_configs_found():
    assert len(ALL_CONFIGS) >= 8, ALL_CONFIGS


@pytest.mark.parametrize('rel', ALL_CONFIGS)
def test_every_type_resolves(rel):
    cfg = Config.fromfile(osp.join(CONFIGS, rel))
    assert cfg.custom_imports['imports'] == [
        'distilpose', 'distilpose.runtime.mmengine_patches'
    ]
    types = set(iter_types(cfg.to_dict()))
    assert 'TopdownPoseEstimator' in types or \
        'DistilPoseDistiller' in types
    missing = sorted(t for t in types if not resolves(t))
    assert not missing, f'{rel}: unregistered types {missing}'


def test_project_components_registered():
    from mmpose.registry import MODELS
    for name in ('StemNet', 'HRNet3Stage', 'TokenDistillingEncoder',
                 'TokenPoseHead', 'DistilPoseHead', 'TokenDistilLoss',
                 'SimulatedHeatmapLoss', 'ScoreDistilLoss',
                 'DistilPoseDistiller'):
        assert MODELS.get(name) is not None, name
