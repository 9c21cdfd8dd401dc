from .distill_losses import (ScoreDistilLoss, SimulatedHeatmapLoss,
                             TokenDistilLoss, simulate_heatmaps)
from .loss_weight import check_loss_weight, check_loss_weights

__all__ = [
    'TokenDistilLoss', 'SimulatedHeatmapLoss', 'ScoreDistilLoss',
    'simulate_heatmaps', 'check_loss_weight', 'check_loss_weights'
]
