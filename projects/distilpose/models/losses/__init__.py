from .distill_losses import (ScoreDistilLoss, SimulatedHeatmapLoss,
                             TokenDistilLoss, simulate_heatmaps)

__all__ = [
    'TokenDistilLoss', 'SimulatedHeatmapLoss', 'ScoreDistilLoss',
    'simulate_heatmaps'
]
