# The distillation terms of DistilPose and their official weights (a
# training config passes them as model.distill_losses).
distill_losses = dict(
    vis_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
    kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
    # 'masked' is the loss the official code intends; 'official'
    # reproduces its broadcast slip (see the loss's docstring).
    sim_heatmap=dict(
        type='SimulatedHeatmapLoss',
        reduction_mode='masked',
        loss_weight=1.0),
    # coord_scale=None: the official score lookup, (w - 1, h - 1); left
    # out, the distiller looks up in the teacher's heatmap frame.
    score=dict(type='ScoreDistilLoss', loss_weight=0.01, coord_scale=None))
