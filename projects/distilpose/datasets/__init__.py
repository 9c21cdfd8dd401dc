"""COCO-format keypoint data: reading annotation files and the checks run
before training (bad samples, keypoint layout)."""
from .coco_annotations import load_annotation_file, people_by_image
from .dataset_check import Problem, check_coco_dataset, format_report
from .keypoint_layout import (check_keypoint_layout, check_metainfo,
                              model_keypoint_counts)

__all__ = [
    'Problem', 'check_coco_dataset', 'check_keypoint_layout',
    'check_metainfo', 'format_report', 'load_annotation_file',
    'model_keypoint_counts', 'people_by_image'
]
