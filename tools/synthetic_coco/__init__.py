"""Seeded generator of a COCO person-keypoint dataset of synthetic people.

Real COCO is often unavailable where a pose model has to be trained or
tested on a CPU. This package draws articulated people on the COCO-17
skeleton over random backgrounds and writes them in the layout and schema
of COCO's ``person_keypoints_val2017.json``, so MMPose's ``CocoDataset``
and ``CocoMetric`` read them unchanged::

    out_dir/annotations/person_keypoints_{train,val}.json
    out_dir/{train,val}/<image_id:012d>.jpg

Every image is drawn from its own ``np.random.default_rng([seed, split,
index])``, so the output depends on the seed and the image size only, never
on the number of worker processes, and the val set does not change with the
size of the train set. Besides :func:`distilpose.fileio.atomic_write`, only
numpy, OpenCV and tqdm are imported.

Conventions, as in COCO: integer keypoint coordinates are pixel centres
(OpenCV's drawing convention); ``v=2`` is a visible keypoint, ``v=1`` a
labelled one hidden by the person's own body, another person or an
occluder, ``v=0`` (with ``x=y=0``) one outside the image or one a COCO
annotator would not label (some far ears in profile, the face seen from
behind).

It is a tool, not part of the plugin: ``tools/generate_synthetic_coco.py``
is its command line, and the demo and the tests import it with ``tools/``
on ``sys.path``. Modules: ``skeleton`` (the COCO layout, body parts),
``geometry`` (polygons, body directions), ``styles`` (colours), ``figure``
(body, pose, the posed person), ``scene`` (backgrounds, placement),
``render`` (one image and its annotations), ``dataset`` (the files).
"""
from .dataset import generate_dataset
from .render import render_image
from .skeleton import (COCO_FLIP_PAIRS, COCO_KEYPOINTS, COCO_SKELETON,
                       NUM_KEYPOINTS, SPLITS, VAL_ID_OFFSET, coco_category,
                       image_id)

__all__ = [
    'COCO_KEYPOINTS', 'COCO_SKELETON', 'COCO_FLIP_PAIRS', 'NUM_KEYPOINTS',
    'SPLITS', 'VAL_ID_OFFSET', 'coco_category', 'image_id', 'render_image',
    'generate_dataset'
]
