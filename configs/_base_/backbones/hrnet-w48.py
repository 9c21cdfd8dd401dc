# HRNet-W48: the 4-stage network of the TokenPose teacher (`hrnet_w48`,
# MMPose's HRNet) and its stages 1-3 for DistilPose-L (`hrnet_w48_3stage`;
# the last stage-3 module returns only the high-resolution branch,
# [N, 48, 64, 48]).
#
# The official teacher and L-baseline recipes start from ImageNet
# HRNet-W48 (DistilPose-L from the teacher's weights). Nothing is
# downloaded unless asked for, e.g. with
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#     model.backbone.init_cfg.checkpoint=<hrnet_w48-8ef0771d.pth>
hrnet_w48_3stage = dict(
    type='HRNet3Stage',
    in_channels=3,
    extra=dict(
        stage1=dict(
            num_modules=1,
            num_branches=1,
            block='BOTTLENECK',
            num_blocks=(4, ),
            num_channels=(64, )),
        stage2=dict(
            num_modules=1,
            num_branches=2,
            block='BASIC',
            num_blocks=(4, 4),
            num_channels=(48, 96)),
        stage3=dict(
            num_modules=4,
            num_branches=3,
            block='BASIC',
            num_blocks=(4, 4, 4),
            num_channels=(48, 96, 192))),
    init_cfg=None)

hrnet_w48 = dict(
    hrnet_w48_3stage,
    type='HRNet',
    extra=dict(
        hrnet_w48_3stage['extra'],
        stage4=dict(
            num_modules=3,
            num_branches=4,
            block='BASIC',
            num_blocks=(4, 4, 4, 4),
            num_channels=(48, 96, 192, 384))))
