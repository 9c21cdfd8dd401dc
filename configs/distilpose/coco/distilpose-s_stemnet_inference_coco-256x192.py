# DistilPose-S, the student alone (no teacher): StemNet + token encoder +
# the DistilPose regression head (x, y, score, sigma_x, sigma_y). Use it
# with init_model / inference_topdown / MMPoseInferencer / mim test and a
# checkpoint trained with distilpose-s_stemnet_8xb32-300e_coco-256x192,
# which adds the teacher to this config; the regression baseline
# td-reg_stemnet-tde_8xb64-300e_coco-256x192 trains it alone.
_base_ = [
    '../../_base_/models/topdown_tde_256x192.py',
    '../../_base_/datasets/coco_topdown.py',
    '../../_base_/schedules/adam-warmup_300e_step200-260.py',
]

model = dict(
    backbone=dict(type='StemNet'),
    neck=dict(in_channels=256),
    head=dict(_base_.distilpose_head, decoder=_base_.regression_codec),
    # Flipped x is 1 - x with no pixel shift, as in the official code.
    test_cfg=dict(flip_test=True, shift_coords=False, flip_score_swap=True))

# The students' batch: 8 GPUs x 32.
train_dataloader = dict(
    batch_size=32, dataset=dict(pipeline=_base_.regression_train_pipeline))
