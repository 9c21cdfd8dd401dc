"""Inference helpers (imported on demand, not by ``import distilpose``,
to keep MMPose's inferencer and MMDetection out of training start-up)."""
from .robust_inference import (SkippedInputWarning, inference_images,
                               valid_boxes)

__all__ = ['SkippedInputWarning', 'inference_images', 'valid_boxes']
