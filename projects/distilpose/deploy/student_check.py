"""The refusal every export shares: a distiller (student and frozen
teacher) is never exported; the deployable model is the student, built
from its inference config.

Both :func:`~distilpose.deploy.export_onnx` and
:func:`~distilpose.deploy.export_openvino` (and their tools, before any
work) call these, so the ONNX and OpenVINO routes refuse alike.
"""
import os.path as osp
from typing import Union

from mmengine.config import Config
from mmpose.registry import MODELS
from torch import nn

from ..models.distillers import DistilPoseDistiller


def check_student_config(config: Union[str, Config]) -> Config:
    """The config, refused if it is a distillation (training) config.

    Its model would be the student together with its frozen teacher; the
    deployable model is the student, built from its inference config.

    Raises:
        ValueError: naming the config, its model type and the inference
            config to export instead (its ``_base_``, where one is).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model_type = cfg.model.get('type', '')
    cls = MODELS.get(model_type) if model_type else None
    if 'teacher_cfg' in cfg.model or (
            isinstance(cls, type) and issubclass(cls, DistilPoseDistiller)):
        name = config if isinstance(config, str) else cfg.filename
        bases = []
        if name and osp.isfile(name):
            bases = [osp.normpath(osp.join(osp.dirname(name), base))
                     for base in Config._get_base_files(name)]
        hint = (f' ({", ".join(bases)})' if bases else '')
        raise ValueError(
            f'{name} is a distillation (training) config: its model is '
            f'{model_type}, the student together with its teacher. Export '
            f'the student from its inference config{hint}, with the '
            'checkpoint the distillation wrote (it holds the student '
            'alone).')
    return cfg


def check_student_model(model: nn.Module) -> None:
    """Refuse a built distiller (the library call's counterpart of
    :func:`check_student_config`).

    Raises:
        ValueError: ``model`` is a :class:`DistilPoseDistiller`.
    """
    if isinstance(model, DistilPoseDistiller):
        raise ValueError(
            'The model is a DistilPoseDistiller (student and teacher): '
            'build the student from its inference config and export that.')
