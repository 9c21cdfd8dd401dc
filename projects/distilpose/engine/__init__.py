"""Training-time reliability: hooks enabled by default in
``configs/_base_/default_runtime.py``, the data-loader worker seeding and
the guarded checkpoint download. Importing it changes nothing in MMEngine
or torch; :mod:`distilpose.compat` holds the fixes that do."""
from .dataset_check import DatasetCheckHook, check_coco_dataset
from .finite_loss import FiniteLossHook
from .inference_precision import (InferencePrecisionHook,
                                  set_inference_precision)
from .keypoint_layout import (KeypointLayoutCheckHook, check_keypoint_layout,
                              check_metainfo, model_keypoint_counts)
from .randomness import EpochReseedHook, reseed, seed_worker_from_torch
from .rank_mean_loss import MeanLossAcrossRanksHook
from .remote_checkpoints import NoNetworkError, fetch_to_cache
from .resume_fallback import (ResumeFromReadableCheckpointHook,
                              latest_readable_checkpoint)

__all__ = [
    'DatasetCheckHook', 'EpochReseedHook', 'FiniteLossHook',
    'InferencePrecisionHook',
    'KeypointLayoutCheckHook', 'MeanLossAcrossRanksHook', 'NoNetworkError',
    'ResumeFromReadableCheckpointHook', 'check_coco_dataset',
    'check_keypoint_layout', 'check_metainfo', 'fetch_to_cache',
    'latest_readable_checkpoint', 'model_keypoint_counts', 'reseed',
    'seed_worker_from_torch', 'set_inference_precision'
]
