"""Inference helpers (imported on demand, not by ``import distilpose``,
to keep MMPose's inferencer and MMDetection out of training start-up)."""
from ..models.utils import set_inference_precision
from .robust_inference import (SkippedInputWarning, check_output_dir,
                               check_output_file, inference_images, save_image,
                               valid_boxes)

__all__ = [
    'SkippedInputWarning', 'check_output_dir', 'check_output_file',
    'inference_images', 'save_image', 'set_inference_precision',
    'valid_boxes'
]
