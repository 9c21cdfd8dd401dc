# The 3-stage HRNet-W48 of DistilPose-L and its regression baseline; stage
# 3's last module returns only the high-resolution branch ([N, 48, 64, 48]).
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
    # The official baseline starts from ImageNet HRNet-W48; nothing is
    # downloaded unless asked for, e.g. with
    #   --cfg-options model.backbone.init_cfg.type=Pretrained \
    #     model.backbone.init_cfg.checkpoint=<hrnet_w48-8ef0771d.pth>
    init_cfg=None)
