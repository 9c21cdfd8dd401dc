"""The COCO-17 person layout the generator draws and writes, and the body
parts a figure is made of.

Keypoint indices (``NOSE`` ... ``R_ANK``) are 0-based; ``COCO_SKELETON``
is 1-based, as in COCO's annotation files. Body parts are the units of
depth ordering and of the occlusion test: every drawn part writes its own
label into a label image, from which a keypoint's visibility is read.
"""

COCO_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                  'left_shoulder', 'right_shoulder', 'left_elbow',
                  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                  'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                  'right_ankle')
#: The 19 links of COCO's person category, 1-based keypoint numbers.
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12),
                 (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3),
                 (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
#: Left/right keypoint pairs, 0-based (what horizontal flips swap).
COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12),
                   (13, 14), (15, 16))
SPLITS = ('train', 'val')
#: Val image ids start above this, so that they do not depend on how many
#: train images there are.
VAL_ID_OFFSET = 10_000_000

NUM_KEYPOINTS = len(COCO_KEYPOINTS)
(NOSE, L_EYE, R_EYE, L_EAR, R_EAR, L_SHO, R_SHO, L_ELB, R_ELB, L_WRI, R_WRI,
 L_HIP, R_HIP, L_KNE, R_KNE, L_ANK, R_ANK) = range(NUM_KEYPOINTS)

# Body parts, the units of depth ordering and of the occlusion test. A limb
# part of side s (0 left, 1 right) is _LIMB0 + 4 * s + limb.
_TORSO, _HEAD, _LIMB0 = 0, 1, 2
_UPPER_ARM, _FOREARM, _THIGH, _SHIN = range(4)
_NUM_PARTS = 10
_MAX_PEOPLE = 3
_OCCLUDER = 1 + _MAX_PEOPLE * _NUM_PARTS  # label of occluders


def _limb(side, limb):
    return _LIMB0 + 4 * side + limb


def _owner_parts():
    """Parts whose pixels show each keypoint (the torso is added per pose).

    A keypoint is visible when the front-most part at its pixel is one of
    these, so a limb crossing a joint of another limb occludes it.
    """
    face = [(_HEAD, )] * 5
    # Shoulders, elbows, wrists, hips, knees, ankles; left, then right.
    joints = ((_UPPER_ARM, ), (_UPPER_ARM, _FOREARM), (_FOREARM, ),
              (_THIGH, ), (_THIGH, _SHIN), (_SHIN, ))
    body = [
        tuple(_limb(side, limb) for limb in limbs) for limbs in joints
        for side in (0, 1)
    ]
    return tuple(face + body)


_OWNERS = _owner_parts()


def coco_category():
    """COCO's person category: keypoint names and 1-based skeleton."""
    return {
        'id': 1,
        'name': 'person',
        'supercategory': 'person',
        'keypoints': list(COCO_KEYPOINTS),
        'skeleton': [list(link) for link in COCO_SKELETON]
    }


def image_id(split, index):
    """COCO image id of image ``index`` of ``split``; unique over splits."""
    return index + 1 + (VAL_ID_OFFSET if split == 'val' else 0)
