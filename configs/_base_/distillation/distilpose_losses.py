# The distillation terms of DistilPose and their official weights (a
# training config passes them as model.distill_losses).
#
# heatmap_distill_losses: the two terms any heatmap teacher supports (an
# MMPose HRNet, ViTPose, ... teacher), drawn and looked up in the teacher's
# heatmap frame, which the distiller takes from the teacher's codec.
heatmap_distill_losses = dict(
    # 'masked' is the loss the official code intends; 'official'
    # reproduces its broadcast slip (see the loss's docstring).
    sim_heatmap=dict(
        type='SimulatedHeatmapLoss',
        reduction_mode='masked',
        loss_weight=1.0),
    score=dict(type='ScoreDistilLoss', loss_weight=0.01))

# distill_losses: the paper's four terms, for a TokenPose teacher. The score
# keeps the official lookup (coord_scale=None: indices scaled by w - 1 and
# h - 1, not the teacher's frame).
distill_losses = dict(
    vis_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
    kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
    sim_heatmap=heatmap_distill_losses['sim_heatmap'],
    score=dict(heatmap_distill_losses['score'], coord_scale=None))
