"""Reading COCO-format keypoint annotation files, naming the file in every
error: shared by the dataset checks, the INT8 calibration and the tools."""
import json
import math
import os.path as osp
from typing import Optional

#: What ``json.load`` raises on a file that is not JSON.
NOT_JSON = (UnicodeDecodeError, json.JSONDecodeError)


def not_json_error(path: str, err: Exception) -> ValueError:
    """The error for an annotation file that ``json.load`` refused."""
    return ValueError(f'The annotation file {path} is not valid JSON '
                      f'({err}). Regenerate or re-download it.')


def load_annotation_file(path: str) -> dict:
    """The parsed COCO annotation file, with errors that name it."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except NOT_JSON as err:
        raise not_json_error(path, err) from err
    missing = [k for k in ('images', 'annotations') if k not in coco]
    if not isinstance(coco, dict) or missing:
        raise ValueError(f'The annotation file {path} is not in COCO '
                         f'format: no {" or ".join(missing) or "dict"}.')
    return coco


def people_by_image(coco: dict, min_size: float = 0.) -> list:
    """``[(image, [(annotation id, xyxy box), ...]), ...]`` of the images of
    a COCO annotation dict that show people: annotations with keypoints
    whose box is wider and higher than ``min_size`` pixels, in the file's
    image order."""
    boxes = {}
    for ann in coco['annotations']:
        x, y, w, h = ann.get('bbox') or (0, 0, 0, 0)
        if ann.get('num_keypoints', 1) > 0 and w > min_size and h > min_size:
            boxes.setdefault(ann['image_id'], []).append(
                (ann['id'], [x, y, x + w, y + h]))
    return [(image, boxes[image['id']]) for image in coco['images']
            if image['id'] in boxes]


def is_person(ann: dict) -> bool:
    """Whether MMPose trains on the COCO annotation ``ann``: not a crowd,
    with keypoints of which at least one is labelled (visibility flag
    above 0), and a ``num_keypoints``, where given, above 0."""
    kpts = ann.get('keypoints')
    if ann.get('iscrowd') or not isinstance(kpts, list) or \
            ann.get('num_keypoints', 1) == 0:
        return False
    return any(isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v) and v > 0 for v in kpts[2::3])


def why_no_people(coco: dict) -> Optional[str]:
    """None if some annotation of a listed image of a COCO annotation dict
    is a person (:func:`is_person`), else why there is nothing to train
    on, with the fix. (MMEngine fails on the empty dataset with a bare
    "need at least one array to concatenate".)"""
    image_ids = {im.get('id') for im in coco['images']}
    anns = [a for a in coco['annotations'] if a.get('image_id') in image_ids]
    if any(is_person(a) for a in anns):
        return None
    if not coco['images']:
        why = 'it lists no images'
    elif not coco['annotations']:
        why = f'it has no annotations ({len(image_ids)} images listed)'
    elif not anns:
        why = (f'none of its {len(coco["annotations"])} annotations is of '
               'one of its images')
    else:
        why = (f'none of its {len(anns)} annotations is a person with '
               'labelled keypoints (each is a crowd, has no keypoints or '
               'only visibility flags 0)')
    return (f'no people to train on: {why}. Check that it is a COCO '
            'keypoint file (person_keypoints_*.json, not a detection or '
            'image-info file) and that it is complete.')


def no_people_error(ann_file: str, instances: list) -> Optional[ValueError]:
    """The error for an annotation file in whose ``instances`` (what
    MMPose's COCO loader parsed: the first list
    ``BaseCocoStyleDataset._load_annotations`` returns) no person has
    keypoints; None if one has. MMEngine otherwise fails on the empty
    dataset with "need at least one array to concatenate", naming
    nothing. The file is read again only in that case."""
    if any(info.get('num_keypoints', 0) > 0 and not info.get('iscrowd')
           for info in instances):
        return None
    why = why_no_people(load_annotation_file(ann_file)) or (
        'no people to train on: MMPose kept none of its annotations.')
    return ValueError(f'The annotation file {ann_file} has {why}')
