"""Top-down inference over many images that survives bad inputs.

``mmpose.apis.inference_topdown`` stops a whole batch at the first image it
cannot read, and it silently predicts garbage for degenerate boxes (NaN
keypoints for a NaN box, points piled on a zero-size box, predictions for
a box outside the image) and treats an empty box list as the whole image.
:func:`inference_images` checks every image and box first, skips the bad
ones with a :class:`SkippedInputWarning` that says what is wrong, and
completes the rest. An output folder that cannot be written is an error
before any work; each picture is written whole or not at all.
"""
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


class SkippedInputWarning(UserWarning):
    """An image or a box was skipped because it cannot be used."""


def _skip(message: str) -> None:
    warnings.warn(message, SkippedInputWarning, stacklevel=3)


def _read_image(image: ImageInput, name: str) -> Optional[np.ndarray]:
    """A BGR uint8 HxWx3 image, or None (with a warning) if unusable."""
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint8 and image.ndim == 3 and \
                image.shape[2] == 3 and min(image.shape[:2]) > 0:
            return image
        _skip(f'{name} skipped: expected a BGR uint8 HxWx3 array, got '
              f'{image.dtype} {image.shape}.')
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
    return img


def valid_boxes(boxes, image_shape, name: str,
                bbox_format: str = 'xyxy') -> np.ndarray:
    """The usable boxes of an image as float32 xyxy [M, 4]: finite, with
    at least one pixel of width and height inside the image. Each other
    box is skipped with a warning."""
    h, w = image_shape[:2]
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if bbox_format == 'xywh':
        boxes = bbox_xywh2xyxy(boxes)
    elif bbox_format != 'xyxy':
        raise ValueError(f"bbox_format must be 'xyxy' or 'xywh', got "
                         f'{bbox_format!r}')
    keep = []
    for i, box in enumerate(boxes):
        x1, y1, x2, y2 = box
        inside_w = min(x2, w) - max(x1, 0)
        inside_h = min(y2, h) - max(y1, 0)
        if not np.isfinite(box).all():
            reason = 'has a non-finite coordinate'
        elif inside_w < 1 or inside_h < 1:
            reason = (f'covers {max(inside_w, 0):g}x{max(inside_h, 0):g} '
                      f'pixels of the {w}x{h} image (empty, inverted or '
                      'outside it)')
        else:
            keep.append(i)
            continue
        _skip(f'Box {i} (x1, y1, x2, y2 = {box.tolist()}) of '
              f'{name} skipped: it {reason}.')
    return boxes[keep]


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
        images: image paths or BGR uint8 HxWx3 arrays.
        bboxes: per image, the person boxes ([M, 4]) or None for the whole
            image; None for all whole images. An empty list means no
            person: the result has no instances.
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
    if bboxes is not None and len(bboxes) != len(images):
        raise ValueError(f'bboxes has {len(bboxes)} entries for '
                         f'{len(images)} images: give one per image (None '
                         'for the whole image).')
    if out_dir:
        visualizer.set_dataset_meta(meta)
    results, used = [], set()
    for index, image in enumerate(images):
        name = (f'image {index}' if isinstance(image, np.ndarray) else
                f'image {index} ({os.fspath(image)})')
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
