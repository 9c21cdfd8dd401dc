import os
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
TOOLS = osp.join(ROOT, 'tools')
# The tools' own modules (``benchmarking``, ``synthetic_coco``) import as
# they do when a tool runs as a script.
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
SHARED = os.environ.get('DISTILPOSE_SHARED',
                        osp.normpath(osp.join(ROOT, '..', 'shared')))
PARITY = osp.join(SHARED, 'fixtures', 'parity-A')


def config_path(rel: str) -> str:
    return osp.join(CONFIGS, rel)


def load_tool(name: str):
    """``tools/<name>.py`` as a module, with ``tools/`` on the path as when
    it runs as a script (for the ``benchmarking`` package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bf16_host(monkeypatch):
    """``bf16_host(native)``: the BF16 probe reports ``native`` (True,
    False or None) and its once-per-process warning is re-armed."""
    from distilpose.models.utils import bf16

    def set_native(native):
        monkeypatch.setattr(bf16, 'native_cpu_bf16', lambda: native)
        monkeypatch.setattr(bf16, '_warned_emulated', False)

    return set_native


def person_boxes(root: str, split: str = 'val') -> list:
    """(image path, [N, 4] xyxy boxes) of the images of a COCO-format data
    root that show people."""
    import numpy as np

    from distilpose.datasets import load_annotation_file, people_by_image
    coco = load_annotation_file(
        osp.join(root, 'annotations', f'person_keypoints_{split}.json'))
    return [(osp.join(root, split, image['file_name']),
             np.asarray([box for _, box in anns], np.float32))
            for image, anns in people_by_image(coco)]


def build_from_config(rel: str, **model_overrides):
    """Build the model of a project config (relative to configs/)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config_path(rel))
    cfg.model.update(model_overrides)
    init_default_scope('mmpose')
    return MODELS.build(cfg.model)


def require_parity_fixtures():
    if not osp.isdir(PARITY):
        pytest.skip(f'official parity fixtures not found at {PARITY} '
                    '(set DISTILPOSE_SHARED to the shared/ folder)')


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield
