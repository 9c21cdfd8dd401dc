# The network TokenPose and DistilPose share at 256x192: a top-down model
# whose neck is the token-distilling encoder (TDE) on the stride-4 map of
# the backbone. 3x4 patches of the 48x64 map give 256 visual tokens, plus
# one token per keypoint; 12 pre-norm layers of 192 dims and 8 heads.
# Each config adds the backbone (and the neck's in_channels), the head and
# test_cfg.
num_keypoints = 17

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
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
