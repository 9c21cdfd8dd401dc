"""``init_weights`` without MMEngine's per-parameter report."""
import logging

from mmengine.logging import MMLogger
from torch import nn


def init_weights_quietly(model: nn.Module) -> nn.Module:
    """``model.init_weights()`` with the current MMLogger and its handlers
    raised to WARNING for the call: MMEngine logs every parameter's
    initialisation at INFO, and a handler added with its own level passes
    records that the logger's level alone would not stop. Levels are
    restored afterwards; returns the model."""
    logger = MMLogger.get_current_instance()
    filters = [logger] + list(logger.handlers)
    levels = [f.level for f in filters]
    for f in filters:
        f.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        for f, level in zip(filters, levels):
            f.setLevel(level)
    return model
