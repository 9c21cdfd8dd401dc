"""Training-step timing: one Adam step of the DistilPose-S distiller
(student forward and backward, frozen teacher forward, distillation losses)
against a step of the same student alone (coordinate loss only)."""
import os.path as osp
from typing import Callable, Dict

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS
from mmpose.testing import get_packed_inputs

from .models import DISTILLER, INPUT, STUDENT, TEACHER


def fake_batch(batch: int, num_keypoints: int):
    """Random images with regression labels (MMPose's test batch); speed
    does not depend on the values."""
    packed = get_packed_inputs(
        batch,
        num_keypoints=num_keypoints,
        img_shape=INPUT[1:],
        input_size=INPUT[:0:-1],
        with_heatmap=False,
        with_simcc_label=False)
    return torch.stack(packed['inputs']).float(), packed['data_samples']


def adam_step(model: torch.nn.Module, inputs, samples) -> Callable:
    """One optimiser step of ``model`` on the batch, as a callable."""
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4)

    def run():
        optim.zero_grad()
        loss, _ = model.parse_losses(model.loss(inputs, samples))
        loss.backward()
        optim.step()

    return run


def training_runners(batch: int, workdir: str) -> Dict[str, Callable]:
    """The two steps, the distillation step with the teacher under BF16
    autocast (``teacher_precision='bf16'``), and the teacher's forward for
    reference. The teacher has random weights, saved to a temporary
    checkpoint in ``workdir``."""
    init_default_scope('mmpose')
    teacher_ckpt = osp.join(workdir, 'teacher.pth')
    teacher = MODELS.build(Config.fromfile(TEACHER).model)
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)
    del teacher
    cfg = Config.fromfile(DISTILLER)
    cfg.model.teacher_ckpt = teacher_ckpt
    distiller = MODELS.build(cfg.model)
    student = MODELS.build(Config.fromfile(STUDENT).model)
    student.load_state_dict(distiller.state_dict())
    inputs, samples = fake_batch(batch, student.head.num_joints)
    distill = adam_step(distiller, inputs, samples)

    def distill_with_bf16_teacher():
        # the same distiller (one teacher in memory), switched for the step
        distiller.teacher_precision = 'bf16'
        try:
            distill()
        finally:
            distiller.teacher_precision = 'fp32'

    return {
        'student-alone step': adam_step(student, inputs, samples),
        'distillation step': distill,
        'distillation step, BF16 teacher': distill_with_bf16_teacher,
        'teacher forward (part of the step)':
        lambda: distiller.teacher_forward(inputs),
    }
