"""Top-down inference over many images that survives bad inputs.

``mmpose.apis.inference_topdown`` stops a whole batch at the first image it
cannot read, and it silently predicts garbage for degenerate boxes (NaN
keypoints for a NaN box, points piled on a zero-size box, predictions for
a box outside the image) and for images of a pixel or two, treats an empty
box list as the whole image and fails in numpy on a box of 3 numbers.
:func:`inference_images` checks every image and box first, skips the bad
ones with a :class:`SkippedInputWarning` that says what is wrong, and
completes the rest; a single path where a list is expected is one image,
not a list of characters. An output folder that cannot be written is an
error before any work; each picture is written whole or not at all.
"""
import numbers
import os
import os.path as osp
import tempfile
import warnings
from typing import List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
from mmengine.structures import InstanceData
from mmpose.apis import inference_topdown, init_model
from mmpose.structures import PoseDataSample, merge_data_samples
from mmpose.structures.bbox import bbox_xywh2xyxy
from mmpose.visualization import PoseLocalVisualizer

from ..datasets.keypoint_layout import check_keypoint_layout
from ..fileio import atomic_write

ImageInput = Union[str, os.PathLike, np.ndarray]

#: The smallest usable image side, in pixels. The model sees a person crop
#: resized to its input (256x192 or 128x96): an image under 8 pixels is
#: enlarged more than 12 times and holds no limbs to find, so every
#: keypoint predicted on it would be made up.
MIN_IMAGE_SIZE = 8


class SkippedInputWarning(UserWarning):
    """An image or a box was skipped because it cannot be used."""


def _skip(message: str) -> None:
    warnings.warn(message, SkippedInputWarning, stacklevel=3)


def _read_image(image: ImageInput, name: str) -> Optional[np.ndarray]:
    """A BGR uint8 HxWx3 image, or None (with a warning) if unusable."""
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint8 and image.ndim == 3 and \
                image.shape[2] == 3 and min(image.shape[:2]) > 0:
            return _big_enough(image, name)
        _skip(f'{name} skipped: expected a BGR uint8 HxWx3 array, got '
              f'{image.dtype} {image.shape}.')
        return None
    if not isinstance(image, (str, os.PathLike)):
        _skip(f'{name} skipped: expected a path or a BGR uint8 HxWx3 '
              f'array, got a {type(image).__name__}.')
        return None
    path = os.fspath(image)
    if osp.isfile(path) and osp.getsize(path) == 0:
        # OpenCV's decoder asserts on an empty buffer instead of failing.
        _skip(f'{name} skipped: the file is empty (0 bytes).')
        return None
    try:
        img = mmcv.imread(path)
    except (OSError, ValueError, cv2.error) as err:
        _skip(f'{name} skipped: cannot be read ({err}).')
        return None
    if img is None:
        _skip(f'{name} skipped: the file is not a decodable image (corrupt '
              'or another format).')
        return None
    return _big_enough(img, name)


def _big_enough(img: np.ndarray, name: str) -> Optional[np.ndarray]:
    h, w = img.shape[:2]
    if min(h, w) >= MIN_IMAGE_SIZE:
        return img
    _skip(f'{name} skipped: it is {w}x{h} pixels, under the '
          f'{MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE} that a pose can be found in '
          '(the keypoints would be made up).')
    return None


def _box_rows(boxes) -> list:
    """The boxes of one image as a list of rows (a flat box of numbers is
    one row), each still unchecked."""
    if isinstance(boxes, np.ndarray):
        return list(boxes) if boxes.ndim == 2 else [boxes]
    if not isinstance(boxes, (list, tuple)):
        return [boxes]
    if boxes and not any(isinstance(v, (list, tuple, np.ndarray))
                         for v in boxes):
        return [boxes]  # one box, unnested
    return list(boxes)


def _box_problem(row) -> Optional[str]:
    """Why ``row`` is not 4 finite numbers, or None."""
    if not isinstance(row, (list, tuple, np.ndarray)):
        return 'is not a list of 4 numbers'
    values = list(row)
    if len(values) != 4:
        return f'has {len(values)} values, not 4'
    if not all(isinstance(v, numbers.Real)
               and not isinstance(v, (bool, np.bool_)) for v in values):
        return 'has a value that is not a number'
    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        return 'has a non-finite coordinate'
    return None


def _shown(row) -> str:
    if isinstance(row, np.ndarray):
        return repr(row.tolist())
    return repr(list(row) if isinstance(row, tuple) else row)


def valid_boxes(boxes, image_shape, name: str,
                bbox_format: str = 'xyxy') -> np.ndarray:
    """The usable boxes of an image as float32 xyxy [M, 4]: 4 finite
    numbers each (one box may be given unnested), x2 > x1 and y2 > y1
    (xywh: w, h > 0), with at least one pixel of width and height inside
    the image. Each other box is skipped with a warning that says why."""
    if bbox_format not in ('xyxy', 'xywh'):
        raise ValueError(f"bbox_format must be 'xyxy' or 'xywh', got "
                         f'{bbox_format!r}')
    h, w = image_shape[:2]
    keep = []
    for i, row in enumerate(_box_rows(boxes)):
        reason = _box_problem(row)
        if reason is None:
            box = np.asarray(row, dtype=np.float32).reshape(1, 4)
            if bbox_format == 'xywh':
                box = bbox_xywh2xyxy(box)
            x1, y1, x2, y2 = box[0]
            inside_w = min(x2, w) - max(x1, 0)
            inside_h = min(y2, h) - max(y1, 0)
            if x2 <= x1 or y2 <= y1:
                reason = 'is empty or inverted (' + (
                    'w or h <= 0)' if bbox_format == 'xywh' else
                    "x2 <= x1 or y2 <= y1; give [x, y, w, h] boxes with "
                    "bbox_format='xywh')")
            elif inside_w < 1 or inside_h < 1:
                reason = (f'covers {max(inside_w, 0):g}x'
                          f'{max(inside_h, 0):g} pixels of the {w}x{h} '
                          'image (it lies outside)')
            else:
                keep.append(box[0])
                continue
        _skip(f'Box {i} ({bbox_format} {_shown(row)}) of {name} skipped: '
              f'it {reason}.')
    return np.array(keep, dtype=np.float32).reshape(-1, 4)


def check_output_dir(path: str, what: str = 'out_dir') -> None:
    """Create the folder ``path`` if needed and check that a file can be
    written in it, so that a bad output path fails before any work, with
    an error naming it (``what``: how the caller calls it)."""
    path = os.fspath(path)
    if osp.exists(path) and not osp.isdir(path):
        raise NotADirectoryError(f'Cannot write to {what} {path}: it is a '
                                 'file, not a folder. Give a folder.')
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise type(err)(
            f'Cannot write to {what} {path}: {err.strerror or err}. Give '
            'a folder you can write to.') from err


def check_output_file(path: str, what: str = 'the output') -> None:
    """:func:`check_output_dir` for the folder of the image file ``path``,
    and that OpenCV can encode its extension."""
    path = os.fspath(path)
    if osp.isdir(path):
        raise IsADirectoryError(f'Cannot write {what} to {path}: it is a '
                                'folder. Give a file name.')
    if not cv2.haveImageWriter(path):
        raise ValueError(f'Cannot write {what} to {path}: OpenCV has no '
                         'encoder for its extension. Use .png or .jpg.')
    check_output_dir(osp.dirname(osp.abspath(path)), f'the folder of {what}')


def save_image(rgb: np.ndarray, path: str) -> None:
    """Encode an RGB image (what MMPose's visualizer draws) by the
    extension of ``path`` and write it atomically: a failure or a kill
    never leaves a partial file under that name."""
    ok, data = cv2.imencode(osp.splitext(path)[1],
                            np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError(f'OpenCV could not encode the image for {path}.')
    atomic_write(data.tobytes(), path)


def _pose_model_and_visualizer(model, checkpoint, device):
    """Unpack an inferencer, or build a model from a config path."""
    inferencer = getattr(model, 'inferencer', model)  # MMPoseInferencer
    if hasattr(inferencer, 'visualizer') and hasattr(inferencer, 'model'):
        return inferencer.model, inferencer.visualizer
    if isinstance(model, (str, os.PathLike)):
        model = init_model(os.fspath(model), checkpoint, device=device)
    visualizer = PoseLocalVisualizer.get_instance(
        f'distilpose_inference_{id(model)}')
    return model, visualizer


def _empty_sample(num_keypoints: int) -> PoseDataSample:
    sample = PoseDataSample()
    sample.pred_instances = InstanceData(
        bboxes=np.zeros((0, 4), np.float32),
        keypoints=np.zeros((0, num_keypoints, 2), np.float32),
        keypoint_scores=np.zeros((0, num_keypoints), np.float32))
    return sample


def _out_file(out_dir, image, index, used) -> str:
    stem = (osp.splitext(osp.basename(os.fspath(image)))[0]
            if not isinstance(image, np.ndarray) else f'{index:04d}')
    name = stem if stem not in used else f'{stem}_{index}'
    used.add(name)
    return osp.join(out_dir, f'{name}.png')


def inference_images(model,
                     images: Sequence[ImageInput],
                     bboxes: Optional[Sequence] = None,
                     out_dir: Optional[str] = None,
                     *,
                     checkpoint: Optional[str] = None,
                     device: str = 'cpu',
                     bbox_format: str = 'xyxy',
                     kpt_thr: float = 0.3) -> List[Optional[PoseDataSample]]:
    """Top-down pose estimation on each image, skipping unusable inputs.

    Args:
        model: a top-down pose model (``mmpose.apis.init_model``), an
            ``MMPoseInferencer`` / ``Pose2DInferencer`` (its pose model and
            visualizer are used; pass boxes or get whole-image results), or
            a config path (with ``checkpoint``).
        images: image paths or BGR uint8 HxWx3 arrays; a single path (str
            or ``os.PathLike``) or array is one image (then ``bboxes``
            are its boxes, as for ``inference_topdown``). Images under
            :data:`MIN_IMAGE_SIZE` pixels on a side are skipped.
        bboxes: per image, the person boxes ([M, 4]; one box may be given
            unnested) or None for the whole image; None for all whole
            images. An empty list means no person: the result has no
            instances. Boxes that are not 4 finite numbers, empty,
            inverted or outside the image are skipped.
        out_dir: if given, each readable image is drawn with its
            predictions to ``out_dir/<file stem>.png`` (arrays:
            ``<index:04d>.png``; a repeated stem gets ``_<index>``).
        checkpoint, device: to build the model from a config path.
        bbox_format: 'xyxy' or 'xywh'.
        kpt_thr: keypoints with lower scores are not drawn.

    Returns:
        Per image, the merged ``PoseDataSample`` (``pred_instances``:
        ``keypoints`` [M, K, 2] in image pixels, ``keypoint_scores``,
        ``bboxes``), or None for an image that could not be read. Each
        skipped image or box issues a :class:`SkippedInputWarning`.

    Raises:
        ValueError: the model's metainfo does not fit its keypoint count
            (e.g. COCO's metainfo on a 16-keypoint model), or ``bboxes``
            does not have one entry per image.
        OSError: ``out_dir`` cannot be written (checked first).
    """
    if out_dir:
        check_output_dir(out_dir)
    pose_model, visualizer = _pose_model_and_visualizer(
        model, checkpoint, device)
    meta = pose_model.dataset_meta
    check_keypoint_layout(pose_model, meta, "the model's metainfo")
    if isinstance(images, (str, os.PathLike)) or (
            isinstance(images, np.ndarray) and images.ndim <= 3):
        # One image, not a sequence of characters or of pixel rows.
        images = [images]
        bboxes = None if bboxes is None else [bboxes]
    images = list(images)
    if bboxes is not None and len(bboxes) != len(images):
        raise ValueError(f'bboxes has {len(bboxes)} entries for '
                         f'{len(images)} images: give one per image (None '
                         'for the whole image).')
    if out_dir:
        visualizer.set_dataset_meta(meta)
    results, used = [], set()
    for index, image in enumerate(images):
        name = (f'image {index} ({os.fspath(image)})'
                if isinstance(image, (str, os.PathLike)) else
                f'image {index}')
        img = _read_image(image, name)
        if img is None:
            results.append(None)
            continue
        boxes = None if bboxes is None else bboxes[index]
        if boxes is None:
            boxes = np.array([[0, 0, img.shape[1], img.shape[0]]])
            bbox_fmt = 'xyxy'
        else:
            bbox_fmt = bbox_format
        boxes = valid_boxes(boxes, img.shape, name, bbox_fmt)
        sample = (merge_data_samples(
            inference_topdown(pose_model, img, boxes, bbox_format='xyxy'))
                  if len(boxes) else _empty_sample(meta['num_keypoints']))
        if out_dir:
            # Drawn without out_file: MMPose would write it in place.
            drawn = visualizer.add_datasample(
                'result', img[..., ::-1], data_sample=sample,
                draw_gt=False, draw_bbox=True, kpt_thr=kpt_thr, show=False)
            save_image(drawn, _out_file(out_dir, image, index, used))
        results.append(sample)
    return results
