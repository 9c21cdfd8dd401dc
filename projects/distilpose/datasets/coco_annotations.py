"""Reading COCO-format keypoint annotation files, naming the file in every
error: shared by the dataset checks, the INT8 calibration and the tools."""
import json
import os.path as osp

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
