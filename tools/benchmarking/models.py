"""Which models the benchmark times, and how they are built."""
import os.path as osp
from typing import Dict, Sequence

import mmpose
import torch
from mmpose.apis import init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OURS = osp.join(ROOT, 'configs')
PEERS = osp.join(
    osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_2d_keypoint')

#: The default models, by display name: DistilPose, its teacher, and
#: MMPose peers built from MMPose's own configs.
CATALOGUE = {
    'DistilPose-S': f'{OURS}/distilpose/coco/'
    'distilpose-s_stemnet_inference_coco-256x192.py',
    'DistilPose-L': f'{OURS}/distilpose/coco/'
    'distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py',
    'TokenPose teacher': f'{OURS}/tokenpose/coco/'
    'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py',
    'RTMPose-s': f'{PEERS}/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py',
    'HRNet-W32 heatmap': f'{PEERS}/topdown_heatmap/coco/'
    'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'RLE-R50': f'{PEERS}/topdown_regression/coco/'
    'td-reg_res50_rle-8xb64-210e_coco-256x192.py',
}
#: The training-step comparison: DistilPose-S distilled from the teacher.
STUDENT = CATALOGUE['DistilPose-S']
TEACHER = CATALOGUE['TokenPose teacher']
DISTILLER = (f'{OURS}/distilpose/coco/'
             'distilpose-s_stemnet_8xb32-300e_coco-256x192.py')

#: One image, as every model in the catalogue takes it: (C, H, W).
INPUT = (3, 256, 192)


def resolve(models: Sequence[str]) -> Dict[str, str]:
    """Display name -> config path. Each entry is a catalogue name or the
    path of any top-down config (named by its file name)."""
    configs = {}
    for model in models:
        if model in CATALOGUE:
            configs[model] = CATALOGUE[model]
        elif osp.isfile(model):
            configs[osp.splitext(osp.basename(model))[0]] = model
        else:
            raise ValueError(
                f'{model!r} is neither a config file nor one of '
                f'{", ".join(CATALOGUE)}.')
    return configs


def build(config: str) -> torch.nn.Module:
    """The model with its layers' default initialisation: ``init_model``
    drops the backbone's ``Pretrained`` init and ``init_weights`` is never
    called, so nothing is downloaded."""
    return init_model(config, None, device='cpu')
