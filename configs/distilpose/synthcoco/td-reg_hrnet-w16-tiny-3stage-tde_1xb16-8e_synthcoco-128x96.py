# The regression baseline of the demo's student: the same network, data,
# schedule and initialisation (the HRNet stages of the teacher checkpoint,
# the file the distilled student's teacher_ckpt names), trained alone with
# the coordinate loss (no teacher, no score or sigma outputs).
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# model settings
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='model_zoo/synthcoco/tokenpose_hrnet-w16-tiny_'
            '1xb16-4x20e-8k10e_synthcoco-128x96.pth')),
    head=dict(with_score=False, with_sigma=False))
