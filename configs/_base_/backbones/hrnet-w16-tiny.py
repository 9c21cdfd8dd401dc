# A demo-size HRNet (MMPose's own HRNet): one module per stage, one block
# per branch, widths 16-32-64-128; the stride-4 branch, [N, 16, H/4, W/4],
# is its output. 0.7 M parameters with a heatmap head, 87 MFLOPs at 128x96.
# Stage i has i branches of widths 16-32-64-128 (stage 1: one Bottleneck).
hrnet_w16_tiny = dict(
    type='HRNet',
    in_channels=3,
    extra={
        f'stage{i}': dict(
            num_modules=1,
            num_branches=i,
            block='BOTTLENECK' if i == 1 else 'BASIC',
            num_blocks=(1, ) * i,
            num_channels=(16, 32, 64, 128)[:i])
        for i in (1, 2, 3, 4)
    })

# Its stages 1-3 (DistilPose-L's kind of student backbone): the last stage-3
# module fuses into the stride-4 branch, [N, 16, H/4, W/4]. The keys match
# hrnet_w16_tiny, so a teacher built on it can initialise this student.
hrnet_w16_tiny_3stage = dict(
    type='HRNet3Stage',
    in_channels=3,
    extra={k: v
           for k, v in hrnet_w16_tiny['extra'].items() if k != 'stage4'})
