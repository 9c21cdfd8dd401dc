"""Reliability hooks, in the order ``configs/_base_/default_runtime.py``
enables them. Priorities matter: the layout check (VERY_HIGH) runs before
the dataset check (HIGH, or HIGHEST when it skips bad samples, so the
layout check sees the kept samples only), and the resume fallback
(VERY_HIGH, ``before_run``) before MMEngine's own resume. The speed options
``ChannelsLastHook`` and ``CompileNetworkHook`` are off unless a config
adds them."""
from .channels_last_hook import ChannelsLastHook
from .compile_network_hook import CompileNetworkHook
from .dataset_check_hook import DatasetCheckHook
from .epoch_reseed_hook import EpochReseedHook
from .finite_loss_hook import FiniteLossHook
from .inference_precision_hook import InferencePrecisionHook
from .keypoint_layout_hook import KeypointLayoutCheckHook
from .rank_mean_loss_hook import MeanLossAcrossRanksHook
from .resume_hook import ResumeFromReadableCheckpointHook

__all__ = [
    'ChannelsLastHook', 'CompileNetworkHook', 'DatasetCheckHook',
    'EpochReseedHook', 'FiniteLossHook', 'InferencePrecisionHook',
    'KeypointLayoutCheckHook', 'MeanLossAcrossRanksHook',
    'ResumeFromReadableCheckpointHook'
]
