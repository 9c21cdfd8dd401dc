# A top-down pose estimator with MMPose's ImageNet input normalisation, the
# start of every model here. Each config adds the backbone, neck, head and
# test_cfg.
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))
