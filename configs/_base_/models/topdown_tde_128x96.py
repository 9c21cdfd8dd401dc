# The 256x192 network at the demo's size (the generated people): the same
# 3x4 patches of the stride-4 map, now 32x24, so 64 visual tokens, in 96
# dims with 4 heads. Each config sets the depth (TokenPose teacher 6,
# DistilPose student 4), the backbone (and the neck's in_channels) and the
# head. No flip test: the generated people mark their left limbs.
_base_ = ['./topdown_tde_256x192.py']

model = dict(
    neck=dict(input_size=(96, 128), embed_dims=96, num_heads=4),
    test_cfg=dict(flip_test=False))

# The heads on 96-dim tokens.
tokenpose_head = dict(_base_.tokenpose_head, in_channels=96)
distilpose_head = dict(_base_.distilpose_head, in_channels=96)
