# The network TokenPose and DistilPose share at 256x192: a top-down model
# whose neck is the token-distilling encoder (TDE) on the stride-4 map of
# the backbone. 3x4 patches of the 48x64 map give 256 visual tokens, plus
# one token per keypoint; 12 pre-norm layers of 192 dims and 8 heads.
# The two heads on its tokens: TokenPose's heatmap head (teachers) and the
# DistilPose regression head (students). Each config adds the backbone (and
# the neck's in_channels), the head with its codec and test_cfg, e.g.
#   head=dict(_base_.distilpose_head, decoder=codec)
_base_ = ['./topdown.py']

num_keypoints = 17

model = dict(
    neck=dict(
        type='TokenDistillingEncoder',
        input_size=(192, 256),
        feature_stride=4,
        patch_size=(3, 4),
        num_keypoints=num_keypoints,
        embed_dims=192,
        depth=12,
        num_heads=8,
        mlp_ratio=3))

tokenpose_head = dict(
    type='TokenPoseHead',
    in_channels=192,
    out_channels=num_keypoints,
    loss=dict(type='KeypointMSELoss', use_target_weight=True))
distilpose_head = dict(
    type='DistilPoseHead',
    in_channels=192,
    num_joints=num_keypoints,
    with_score=True,
    with_sigma=True,
    loss=dict(type='SmoothL1Loss', use_target_weight=True))
