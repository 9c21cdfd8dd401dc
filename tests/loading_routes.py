"""The routes by which a checkpoint file reaches a model, for the tests
that check each route refuses or accepts a file alike."""
import torch
from mmengine.model.weight_init import PretrainedInit
from mmengine.runner import checkpoint as mmengine_ckpt
from mmengine.runner import load_checkpoint
from torch import nn

from distilpose.checkpoint import read_state_dict


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                         nn.Flatten(), nn.Linear(4, 2))


def load_via(route: str, name: str):
    """Load ``name`` the way ``route`` does: MMEngine's checkpoint dict,
    the teacher's state dict, or the tiny model with the weights loaded."""
    if route == 'mmengine_loader':  # load_from, --resume, --checkpoint
        return mmengine_ckpt._load_checkpoint(name, 'cpu')
    if route == 'teacher':  # the distiller's teacher_ckpt
        return read_state_dict(name, role='teacher')
    model = tiny_model()
    if route == 'load_checkpoint':  # init_model, MMPoseInferencer
        load_checkpoint(model, name, map_location='cpu')
    elif route == 'pretrained_init':
        PretrainedInit(checkpoint=name, map_location='cpu')(model)
    else:
        assert route == 'pretrained_prefix', route
        PretrainedInit(checkpoint=name, prefix='net.',
                       map_location='cpu')(model)
    return model


def state_dict_via(route: str, name: str) -> dict:
    """The state dict ``route`` ends up with when it loads ``name``."""
    loaded = load_via(route, name)
    if isinstance(loaded, nn.Module):
        return loaded.state_dict()
    if route == 'mmengine_loader':
        return loaded.get('state_dict', loaded)  # as MMEngine reads it
    return loaded
