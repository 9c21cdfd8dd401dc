"""One image and its COCO annotations: the figures drawn with a part label
image beside them, occluders on top, and each keypoint's visibility read
from the final labels."""
import cv2
import numpy as np

from .geometry import _SHIFT, _fixed, _random_shape
from .scene import _background, _photometric, _place_people
from .skeleton import (_NUM_PARTS, _OCCLUDER, _OWNERS, _TORSO, NUM_KEYPOINTS,
                       SPLITS, image_id)
from .styles import _colour

_MIN_LABELLED = 3  # fewer labelled keypoints: drawn but not annotated
_MIN_BOX = 16  # pixels; a smaller box side: drawn but not annotated


def _draw_figure(img, label, fig, index):
    """Draw a figure; write its part labels; return its full silhouette."""
    mask = np.zeros(label.shape, np.uint8)
    for part, items in fig.parts:
        value = 1 + index * _NUM_PARTS + part
        for poly, colour in items:
            pts = _fixed(poly)
            # One polygon per call: OpenCV fills several with even-odd.
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(label, [pts], value, cv2.LINE_8, _SHIFT)
            cv2.fillPoly(mask, [pts], 1, cv2.LINE_8, _SHIFT)
    return mask


def _draw_occluders(rng, img, label, figures):
    """Sometimes put 1-2 solid or textured shapes over part of a person."""
    if rng.random() >= 0.3:
        return
    h, w = label.shape
    for _ in range(1 + int(rng.random() < 0.3)):
        fig = figures[rng.integers(len(figures))]
        centre = (fig.keypoints[rng.integers(NUM_KEYPOINTS)] +
                  rng.normal(0, 0.08 * fig.height, 2))
        pts = _fixed(
            _random_shape(rng, centre,
                          rng.uniform(0.15, 0.4) * fig.height))
        if rng.random() < 0.6:
            cv2.fillPoly(img, [pts], _colour(rng), cv2.LINE_AA, _SHIFT)
        else:
            alpha = np.zeros((h, w), np.uint8)
            cv2.fillPoly(alpha, [pts], 255, cv2.LINE_AA, _SHIFT)
            alpha = alpha[..., None].astype(np.float32) / 255
            texture = _background(rng, w, h, clutter=False)
            img[:] = (img * (1 - alpha) + texture * alpha).astype(np.uint8)
        cv2.fillPoly(label, [pts], _OCCLUDER, cv2.LINE_8, _SHIFT)


def _visibility(fig, index, label):
    """COCO visibility flags from the final part labels of the image."""
    h, w = label.shape
    x, y = fig.keypoints.T
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    ix = np.clip(np.rint(x), 0, w - 1).astype(int)
    iy = np.clip(np.rint(y), 0, h - 1).astype(int)
    base = 1 + index * _NUM_PARTS
    v = np.full(NUM_KEYPOINTS, 2)
    for j in range(NUM_KEYPOINTS):
        owners = _OWNERS[j] + ((_TORSO, ) if fig.torso_owns[j] else ())
        if (fig.self_occluded[j]
                or int(label[iy[j], ix[j]]) - base not in owners):
            v[j] = 1
    v[fig.unlabelled | ~inside] = 0
    return v


def _annotate(fig, index, mask, label):
    """The COCO annotation of a drawn figure, or None if too little shows.

    The box is the figure's whole silhouette in the image (so occluded but
    labelled keypoints stay in it); ``area`` and ``segmentation`` are its
    visible pixels, as COCO's are.
    """
    v = _visibility(fig, index, label)
    x0, y0, bw, bh = cv2.boundingRect(mask)
    base = 1 + index * _NUM_PARTS
    visible = ((label >= base) & (label < base + _NUM_PARTS)).astype(
        np.uint8)
    area = int(np.count_nonzero(visible))
    labelled = int(np.count_nonzero(v))
    if labelled < _MIN_LABELLED or min(bw, bh) < _MIN_BOX or area == 0:
        return None
    keypoints = []
    for (x, y), vis in zip(fig.keypoints, v):
        keypoints += ([round(float(x), 2), round(float(y), 2), int(vis)]
                      if vis else [0, 0, 0])
    contours, _ = cv2.findContours(visible, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return {
        'category_id': 1,
        'bbox': [float(x0), float(y0), float(bw), float(bh)],
        'area': float(area),
        'keypoints': keypoints,
        'num_keypoints': labelled,
        'iscrowd': 0,
        'segmentation': [c.reshape(-1).astype(float).tolist()
                         for c in contours if len(c) >= 3],
    }


def render_image(seed, split, index, image_size=(256, 256)):
    """Draw image ``index`` of ``split``.

    Returns the BGR image (before JPEG compression) and its COCO
    annotations, ids included. The same arguments give the same result.
    """
    w, h = image_size
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    img = _background(rng, w, h)
    label = np.zeros((h, w), np.uint8)
    figures = _place_people(rng, w, h)
    masks = [_draw_figure(img, label, fig, i) for i, fig in enumerate(figures)]
    _draw_occluders(rng, img, label, figures)
    img = _photometric(rng, img)
    img_id = image_id(split, index)
    annotations = []
    for i, (fig, mask) in enumerate(zip(figures, masks)):
        ann = _annotate(fig, i, mask, label)
        if ann is not None:
            # Unique over the dataset: at most _MAX_PEOPLE (< 10) per image.
            annotations.append({'id': img_id * 10 + i, 'image_id': img_id,
                                **ann})
    return img, annotations
