"""Training-time reliability: hooks enabled by default in
``configs/_base_/default_runtime.py``, the data-loader worker seeding, the
guarded checkpoint download and ``--launcher pytorch`` on CPU machines."""
from . import cpu_distributed  # noqa: F401  (installs on CPU-only hosts)
from .finite_loss import FiniteLossHook
from .keypoint_layout import (KeypointLayoutCheckHook, check_keypoint_layout,
                              check_metainfo, model_keypoint_counts)
from .rank_mean_loss import MeanLossAcrossRanksHook
from .randomness import EpochReseedHook, reseed, seed_worker_from_torch
from .remote_checkpoints import NoNetworkError, load_from_url

__all__ = [
    'EpochReseedHook', 'FiniteLossHook', 'KeypointLayoutCheckHook',
    'MeanLossAcrossRanksHook', 'NoNetworkError', 'check_keypoint_layout',
    'check_metainfo', 'load_from_url', 'model_keypoint_counts', 'reseed',
    'seed_worker_from_torch'
]
