"""Seeded generator of a COCO person-keypoint dataset of synthetic people.

Real COCO is often unavailable where a pose model has to be trained or
tested on a CPU. This module draws articulated people on the COCO-17
skeleton over random backgrounds and writes them in the layout and schema
of COCO's ``person_keypoints_val2017.json``, so MMPose's ``CocoDataset``
and ``CocoMetric`` read them unchanged::

    out_dir/annotations/person_keypoints_{train,val}.json
    out_dir/{train,val}/<image_id:012d>.jpg

Every image is drawn from its own ``np.random.default_rng([seed, split,
index])``, so the output depends on the seed and the image size only, never
on the number of worker processes, and the val set does not change with the
size of the train set. Only numpy, OpenCV and tqdm are imported.

Conventions, as in COCO: integer keypoint coordinates are pixel centres
(OpenCV's drawing convention); ``v=2`` is a visible keypoint, ``v=1`` a
labelled one hidden by the person's own body, another person or an
occluder, ``v=0`` (with ``x=y=0``) one outside the image or one a COCO
annotator would not label (some far ears in profile, the face seen from
behind).
"""
import colorsys
import json
import multiprocessing
import os
import os.path as osp
import sys
from dataclasses import dataclass, replace

import cv2
import numpy as np
from tqdm import tqdm

from ..fileio import atomic_write

__all__ = [
    'COCO_KEYPOINTS', 'COCO_SKELETON', 'COCO_FLIP_PAIRS', 'NUM_KEYPOINTS',
    'SPLITS', 'VAL_ID_OFFSET', 'coco_category', 'image_id', 'render_image',
    'generate_dataset'
]

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
_SHIFT = 4  # fractional bits of polygon vertices given to OpenCV
_MIN_LABELLED = 3  # fewer labelled keypoints: drawn but not annotated
_MIN_BOX = 16  # pixels; a smaller box side: drawn but not annotated
_JPEG_QUALITY = 90
_DOWN = np.array([0., 1., 0.])


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


# ---------------------------------------------------------------- colours --

_SKIN_TONES = np.array([[45, 60, 95], [60, 90, 140], [80, 120, 170],
                        [110, 150, 200], [140, 180, 225], [165, 195, 235]])
_HAIR_COLOURS = np.array([[20, 20, 25], [30, 45, 70], [40, 80, 130],
                          [90, 150, 200], [150, 150, 150], [30, 40, 120]])


def _colour(rng, max_value=255):
    """A random BGR colour, darker than ``max_value``."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.15, 1.),
                                  rng.uniform(25, max_value) / 255)
    return (int(b * 255), int(g * 255), int(r * 255))


def _from_palette(rng, palette, jitter=12):
    colour = palette[rng.integers(len(palette))] + rng.normal(0, jitter, 3)
    return tuple(int(c) for c in np.clip(colour, 0, 255))


def _shade(colour, factor):
    return tuple(int(min(255, c * factor)) for c in colour)


# --------------------------------------------------------------- geometry --


def _circle(centre, radius, n=None):
    n = n or int(np.clip(2 * radius, 10, 36))
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return centre[:2] + radius * np.stack([np.cos(t), np.sin(t)], 1)


def _hull(points):
    hull = cv2.convexHull(np.asarray(points, np.float32))
    return hull[:, 0].astype(np.float64)


def _capsule(p0, p1, r0, r1):
    """A tapered limb: the convex hull of two discs."""
    return _hull(np.concatenate([_circle(p0, r0), _circle(p1, r1)]))


def _ellipse(centre, half_width, half_height, up, n=40):
    """An ellipse whose ``half_height`` axis lies along the 2-D ``up``."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    across = np.array([-up[1], up[0]])
    return (centre[:2] + half_width * np.cos(t) * across +
            half_height * np.sin(t) * up[:2])


def _unit(v, *against):
    """``v`` without its components along the unit vectors ``against``."""
    for axis in against:
        v = v - (v @ axis) * axis
    return v / np.linalg.norm(v)


def _rot_z(angle):
    """Rotation about the viewing axis (an in-plane rotation)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]])


def _body_axes(yaw):
    """The person's left and forward directions when turned by ``yaw``.

    Image axes: x right, y down, z towards the camera. ``yaw`` 0 faces the
    camera (the person's left is the image's right), pi/2 faces the image's
    right (the right side of the body is the near side).
    """
    return (np.array([np.cos(yaw), 0., -np.sin(yaw)]),
            np.array([np.sin(yaw), 0., np.cos(yaw)]))


# ------------------------------------------------------------ the people --


@dataclass
class _Figure:
    """A posed, drawable person.

    ``parts`` lists ``(part, [(polygon, colour), ...])`` back to front;
    the other arrays hold one entry per keypoint.
    """
    height: float
    keypoints: np.ndarray  # (K, 2) image coordinates
    self_occluded: np.ndarray  # bool: hidden by the own head (face points)
    unlabelled: np.ndarray  # bool: a COCO annotator would skip it
    torso_owns: np.ndarray  # bool: the torso's pixels show this joint
    parts: list

    def transformed(self, matrix):
        """The figure moved by the 2x3 affine ``matrix``."""

        def apply(points):
            return points @ matrix[:, :2].T + matrix[:, 2]

        return replace(
            self,
            keypoints=apply(self.keypoints),
            parts=[(part, [(apply(poly), colour) for poly, colour in items])
                   for part, items in self.parts])

    def extent(self):
        """Corners (min, max) of the box around everything drawn."""
        points = np.concatenate(
            [poly for _, items in self.parts for poly, _ in items])
        return points.min(0), points.max(0)


def _sample_build(rng):
    """Body proportions as fractions of the standing height."""
    head_b = rng.uniform(0.062, 0.072)
    return dict(
        torso=rng.uniform(0.28, 0.32),
        neck=rng.uniform(0.04, 0.06),
        head_a=head_b * rng.uniform(0.75, 0.85),
        head_b=head_b,
        upper_arm=rng.uniform(0.16, 0.19),
        forearm=rng.uniform(0.14, 0.17),
        thigh=rng.uniform(0.23, 0.26),
        shin=rng.uniform(0.22, 0.25),
        shoulder_w=rng.uniform(0.17, 0.23),
        hip_w=rng.uniform(0.09, 0.13),
        girth=rng.uniform(0.8, 1.25))


def _sample_style(rng):
    """Per-person colours. Clothes stay darker than the light stripe that
    marks the left limbs, so the stripe always shows."""
    skin = _from_palette(rng, _SKIN_TONES)
    shirt = _colour(rng, 190)
    pants = _colour(rng, 170)
    return dict(
        skin=skin,
        hair=_from_palette(rng, _HAIR_COLOURS),
        shirt=shirt,
        forearm=shirt if rng.random() < 0.5 else skin,
        pants=pants,
        shin=pants if rng.random() < 0.75 else skin,
        shoes=_colour(rng, 110),
        stripe=tuple(int(c) for c in rng.uniform(225, 255, 3)))


# Angle ranges in degrees. Arms: (elevation from hanging, azimuth from
# sideways towards the front, elbow bend); legs: (hip flexion forwards,
# knee bend, abduction). Asymmetric leg modes list two legs.
_ARM_MODES = (
    ('down', 0.35, ((3, 25), (-40, 60), (0, 30))),
    ('bent', 0.2, ((10, 60), (30, 100), (60, 140))),
    ('raised', 0.12, ((110, 175), (-20, 60), (0, 50))),
    ('side', 0.13, ((60, 110), (-20, 40), (0, 100))),
    ('any', 0.2, ((0, 175), (-90, 120), (0, 150))),
)
_STAND = ((-8, 12), (0, 15), (0, 10))
_LEG_MODES = (
    ('stand', 0.35, (_STAND, _STAND)),
    ('walk', 0.2, (((10, 35), (0, 20), (0, 8)),
                   ((-30, -5), (10, 50), (0, 8)))),
    ('run', 0.1, (((30, 65), (40, 100), (0, 10)),
                  ((-40, -10), (40, 100), (0, 10)))),
    ('sit', 0.1, (((70, 100), (60, 110), (0, 20)), ) * 2),
    ('crouch', 0.07, (((40, 90), (70, 140), (5, 25)), ) * 2),
    ('kick', 0.08, (((45, 100), (0, 40), (0, 20)), _STAND)),
    ('any', 0.1, (((-30, 100), (0, 130), (0, 30)), ) * 2),
)
# Facing directions (degrees of yaw) and their probabilities: mostly
# front, then profiles, backs and three-quarter views.
_YAWS = (0, 180, 90, -90, 45, -45, 135, -135)
_YAW_P = (0.3, 0.15, 0.15, 0.15, 0.08, 0.08, 0.045, 0.045)


def _pick(rng, modes):
    weights = np.array([p for _, p, _ in modes])
    return modes[rng.choice(len(modes), p=weights / weights.sum())]


def _angles(rng, ranges):
    return np.deg2rad([rng.uniform(lo, hi) for lo, hi in ranges])


def _sample_pose(rng):
    """Joint angles (radians) of a random, human-like pose."""
    leg_mode, _, leg_ranges = _pick(rng, _LEG_MODES)
    if rng.random() < 0.5:
        leg_ranges = leg_ranges[::-1]
    legs = [_angles(rng, r) for r in leg_ranges]
    if leg_mode in ('walk', 'run') and rng.random() < 0.7:
        # Arms swing against the legs: the arm of the back leg goes forward.
        bend = (60, 100) if leg_mode == 'run' else (0, 40)
        arms = [
            _angles(rng, ((15, 45), (80, 100) if legs[side][0] < 0 else
                          (-100, -80), bend)) for side in range(2)
        ]
    else:
        modes = [_pick(rng, _ARM_MODES) for _ in range(2)]
        if rng.random() < 0.5:
            modes[1] = modes[0]
        arms = [_angles(rng, ranges) for _, _, ranges in modes]
    # How the elbow bends: from forwards (0) to upwards (90 degrees).
    bend_plane = np.deg2rad(rng.uniform(0, 90, 2))
    lean = rng.uniform(-10, 15) if rng.random() < 0.85 else rng.uniform(
        15, 45)
    return dict(
        yaw=np.deg2rad(_YAWS[rng.choice(8, p=_YAW_P)] + rng.normal(0, 10)),
        head_turn=np.deg2rad(np.clip(rng.normal(0, 12), -30, 30)),
        head_roll=np.deg2rad(np.clip(rng.normal(0, 8), -25, 25)),
        lean=np.deg2rad(lean),
        side_lean=np.deg2rad(np.clip(rng.normal(0, 5), -15, 15)),
        arms=arms,
        bend_plane=bend_plane,
        legs=legs)


def _limb_items(p0, p1, r0, r1, colour, stripe):
    """A limb segment, with the light stripe of the left side if given."""
    items = [(_capsule(p0, p1, r0, r1), colour)]
    if stripe is not None:
        width = max(0.5, 0.25 * min(r0, r1))
        items.append((_capsule(p0 + 0.2 * (p1 - p0), p0 + 0.8 * (p1 - p0),
                               width, width), stripe))
    return items


def _arm(k, side, frame, b, pose, style, height):
    """Place elbow and wrist; return the arm's parts as (depth, part,
    items)."""
    up, t_left, t_fwd = frame
    out = t_left if side == 0 else -t_left
    elevation, azimuth, bend = pose['arms'][side]
    upper = (np.cos(elevation) * -up + np.sin(elevation) *
             (np.cos(azimuth) * out + np.sin(azimuth) * t_fwd))
    shoulder = k[L_SHO + side]
    k[L_ELB + side] = elbow = shoulder + upper * b['upper_arm'] * height
    plane = pose['bend_plane'][side]
    ref = np.cos(plane) * t_fwd + np.sin(plane) * up
    if abs(ref @ upper) > 0.99:
        ref = out
    normal = _unit(ref, upper)
    fore = np.cos(bend) * upper + np.sin(bend) * normal
    k[L_WRI + side] = wrist = elbow + fore * b['forearm'] * height
    r = b['girth'] * height
    stripe = style['stripe'] if side == 0 else None
    hand = wrist + fore * 0.05 * height
    return [
        ((shoulder[2] + elbow[2]) / 2 + 0.02 * height,
         _limb(side, _UPPER_ARM),
         _limb_items(shoulder, elbow, 0.03 * r, 0.025 * r, style['shirt'],
                     stripe)),
        ((elbow[2] + wrist[2]) / 2 + 0.02 * height, _limb(side, _FOREARM),
         _limb_items(elbow, wrist, 0.024 * r, 0.018 * r, style['forearm'],
                     stripe) +
         [(_capsule(wrist, hand, 0.02 * r, 0.017 * r), style['skin'])]),
    ]


def _leg(k, side, left, fwd, b, pose, style, height):
    """Place knee and ankle; return the leg's parts as (depth, part,
    items)."""
    out = left if side == 0 else -left
    flexion, knee_bend, abduction = pose['legs'][side]
    ca, sa = np.cos(abduction), np.sin(abduction)
    shin_angle = flexion - knee_bend
    thigh = ca * (np.cos(flexion) * _DOWN + np.sin(flexion) * fwd) + sa * out
    shin = (ca * (np.cos(shin_angle) * _DOWN + np.sin(shin_angle) * fwd) +
            sa * out)
    foot = _unit(-np.sin(shin_angle) * _DOWN + np.cos(shin_angle) * fwd +
                 0.3 * out)
    hip = k[L_HIP + side]
    k[L_KNE + side] = knee = hip + thigh * b['thigh'] * height
    k[L_ANK + side] = ankle = knee + shin * b['shin'] * height
    r = b['girth'] * height
    stripe = style['stripe'] if side == 0 else None
    heel = ankle + shin * 0.02 * height
    toe = ankle + foot * 0.07 * height + shin * 0.01 * height
    return [
        ((hip[2] + knee[2]) / 2 - 0.005 * height, _limb(side, _THIGH),
         _limb_items(hip, knee, 0.05 * r, 0.037 * r, style['pants'],
                     stripe)),
        ((knee[2] + ankle[2]) / 2 - 0.005 * height, _limb(side, _SHIN),
         _limb_items(knee, ankle, 0.035 * r, 0.025 * r, style['shin'],
                     stripe) +
         [(_capsule(heel, toe, 0.022 * r, 0.02 * r), style['shoes'])]),
    ]


# Face keypoints on the head ellipsoid: (azimuth from the front towards the
# person's left, elevation, radial factor) and the facing (z of the surface
# normal) below which the point is hidden behind the head.
_FACE_POINTS = {
    NOSE: ((0., -0.12, 1.1), -0.3),
    L_EYE: ((0.4, 0.15, 1.), -0.05),
    R_EYE: ((-0.4, 0.15, 1.), -0.05),
    L_EAR: ((1.65, 0., 1.), -0.35),
    R_EAR: ((-1.65, 0., 1.), -0.35),
}


class _Head:
    """The head as an ellipsoid turned by its yaw and in-plane roll."""

    def __init__(self, neck_top, yaw, roll, half_width, half_height):
        rot = _rot_z(roll)
        self.up = rot @ np.array([0., -1., 0.])
        self.left, self.fwd = (rot @ axis for axis in _body_axes(yaw))
        self.a, self.b = half_width, half_height
        self.centre = neck_top + self.up * 0.8 * half_height

    def surface(self, azimuth, elevation, radial=1.):
        """A point on the head and the z of its surface normal."""
        normal = (np.cos(elevation) * (np.sin(azimuth) * self.left +
                                       np.cos(azimuth) * self.fwd) +
                  np.sin(elevation) * self.up)
        offset = (self.a * np.cos(elevation) *
                  (np.sin(azimuth) * self.left + np.cos(azimuth) * self.fwd) +
                  self.b * np.sin(elevation) * self.up)
        return self.centre + radial * offset, normal[2]


def _head_items(head, k, facing, style, neck_base, girth):
    """Neck, hair, and the face features that face the camera.

    Hair fills the head's outline; the face, ears, eyes, nose and mouth go
    on top only where they face the camera, so the head alone shows which
    way the person looks.
    """
    a, b, skin = head.a, head.b, style['skin']
    items = [(_capsule(neck_base, head.centre, 0.35 * a * girth,
                       0.35 * a * girth), skin),
             (_ellipse(head.centre, a, b, head.up), style['hair'])]
    if head.fwd[2] > -0.25:
        turned = abs(head.fwd[0])
        face_centre = (head.centre + 0.3 * a * head.fwd - 0.12 * b * head.up)
        items.append((_ellipse(face_centre, 0.65 * a * (1 - 0.45 * turned),
                               0.78 * b, head.up), skin))
    for ear in (L_EAR, R_EAR):
        if facing[ear] > _FACE_POINTS[ear][1]:
            items.append((_circle(k[ear], 0.22 * a), _shade(skin, 0.9)))
    for eye in (L_EYE, R_EYE):
        if facing[eye] > _FACE_POINTS[eye][1]:
            items.append((_circle(k[eye], max(0.7, 0.13 * a)), (40, 30, 30)))
    if facing[NOSE] > _FACE_POINTS[NOSE][1]:
        tip, _ = head.surface(0., -0.12, 1.18)
        top, _ = head.surface(0., 0.05, 0.95)
        bottom, _ = head.surface(0., -0.25, 0.95)
        items.append((_hull([tip[:2], top[:2], bottom[:2]]),
                      _shade(skin, 0.8)))
    mouth_l, mouth_facing = head.surface(0.35, -0.5)
    if mouth_facing > 0.15:
        mouth_r, _ = head.surface(-0.35, -0.5)
        width = max(0.5, 0.06 * a)
        items.append((_capsule(mouth_l, mouth_r, width, width), (60, 60, 150)))
    return items


def _torso_items(k, yaw, b, style, height):
    """Shirt and waistband: hulls of discs at the shoulders and hips, wider
    in profile where the chest's depth shows."""
    r = b['girth'] * height
    turned = abs(np.sin(yaw))
    r_sho = (0.042 + 0.025 * turned) * r
    r_hip = (0.055 + 0.015 * turned) * r
    shoulders = [_circle(k[j], r_sho) for j in (L_SHO, R_SHO)]
    hips = [_circle(k[j], r_hip) for j in (L_HIP, R_HIP)]
    waist = [
        _circle(k[hip] + 0.22 * (k[hip - 6] - k[hip]), r_hip)
        for hip in (L_HIP, R_HIP)
    ]
    return [(_hull(np.concatenate(shoulders + hips)), style['shirt']),
            (_hull(np.concatenate(hips + waist)), style['pants'])]


def _annotator_skips(rng, self_occluded, facing):
    """Face points a COCO annotator leaves unlabelled: each hidden ear with
    probability 1/2, and usually the whole hidden face of a person seen
    from behind."""
    skip_face, skip_left_ear, skip_right_ear = rng.random(3) < (0.8, 0.5, 0.5)
    skips = np.zeros(NUM_KEYPOINTS, bool)
    if facing[NOSE] < -0.5 and skip_face:
        skips[[NOSE, L_EYE, R_EYE]] = True
    skips[L_EAR], skips[R_EAR] = skip_left_ear, skip_right_ear
    return skips & self_occluded


def _make_figure(rng, height):
    """A random person ``height`` pixels tall, pelvis at the origin."""
    b = _sample_build(rng)
    style = _sample_style(rng)
    pose = _sample_pose(rng)
    left, fwd = _body_axes(pose['yaw'])
    up = _unit(-np.cos(pose['lean']) * _DOWN + np.sin(pose['lean']) * fwd +
               np.sin(pose['side_lean']) * left)
    t_left = _unit(left, up)
    frame = (up, t_left, _unit(fwd, up, t_left))
    k = np.zeros((NUM_KEYPOINTS, 3))
    hip_half = b['hip_w'] / 2 * height
    shoulder_half = b['shoulder_w'] / 2 * height
    k[L_HIP], k[R_HIP] = left * hip_half, -left * hip_half
    neck_base = up * b['torso'] * height
    k[L_SHO] = neck_base + t_left * shoulder_half
    k[R_SHO] = neck_base - t_left * shoulder_half

    parts = []
    for side in range(2):
        parts += _arm(k, side, frame, b, pose, style, height)
        parts += _leg(k, side, left, fwd, b, pose, style, height)

    # The head follows most of the torso's in-plane lean.
    roll = pose['head_roll'] + 0.7 * np.arctan2(up[0], -up[1])
    head = _Head(neck_base + up * b['neck'] * height,
                 pose['yaw'] + pose['head_turn'], roll, b['head_a'] * height,
                 b['head_b'] * height)
    facing = np.zeros(NUM_KEYPOINTS)
    for j, (place, _) in _FACE_POINTS.items():
        point, facing[j] = head.surface(*place)
        k[j] = point
    parts.append((head.centre[2] + 0.01 * height, _HEAD,
                  _head_items(head, k, facing, style, neck_base, b['girth'])))
    parts.append((0.5 * neck_base[2], _TORSO,
                  _torso_items(k, pose['yaw'], b, style, height)))
    parts.sort(key=lambda part: part[0])  # stable: ties keep list order

    self_occluded = np.zeros(NUM_KEYPOINTS, bool)
    for j, (_, threshold) in _FACE_POINTS.items():
        self_occluded[j] = facing[j] <= threshold
    unlabelled = _annotator_skips(rng, self_occluded, facing)
    # Joints on the far side of a turned body lie behind the torso.
    torso_owns = np.zeros(NUM_KEYPOINTS, bool)
    for joint, centre_z, half in ((L_SHO, neck_base[2], shoulder_half),
                                  (L_HIP, 0., hip_half)):
        for j in (joint, joint + 1):
            torso_owns[j] = k[j, 2] - centre_z >= -0.7 * half
    return _Figure(height, k[:, :2].copy(), self_occluded, unlabelled,
                   torso_owns, [(part, items) for _, part, items in parts])


# ---------------------------------------------------------- backgrounds --


def _grid(w, h, angle):
    """Pixel coordinates projected on the direction ``angle``."""
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    return xs * np.cos(angle) + ys * np.sin(angle)


def _mix(c0, c1, t):
    """Blend two colours with weights ``t`` (h, w) in [0, 1]."""
    c0, c1 = np.float32(c0), np.float32(c1)
    return (c0 + (c1 - c0) * t[..., None]).astype(np.uint8)


def _bg_solid(rng, w, h):
    return np.full((h, w, 3), _colour(rng), np.uint8)


def _bg_gradient(rng, w, h):
    u = _grid(w, h, rng.uniform(0, 2 * np.pi))
    return _mix(_colour(rng), _colour(rng), (u - u.min()) / np.ptp(u))


def _bg_noise(rng, w, h):
    base = np.float32(_colour(rng))
    noise = rng.normal(0, rng.uniform(10, 50), (h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _bg_blurred_noise(rng, w, h):
    cell = int(rng.integers(4, 33))
    low = rng.uniform(0, 255, (h // cell + 2, w // cell + 2, 3))
    img = cv2.resize(low.astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    return np.clip(img, 0, 255).astype(np.uint8)


def _bg_stripes(rng, w, h):
    u = _grid(w, h, rng.uniform(0, np.pi))
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * u / rng.uniform(4, 60) +
                              rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.5:
        wave = (wave > 0.5).astype(np.float32)
    return _mix(_colour(rng), _colour(rng), wave)


def _bg_checker(rng, w, h):
    angle, cell = rng.uniform(0, np.pi), rng.uniform(6, 48)
    u = np.floor(_grid(w, h, angle) / cell)
    v = np.floor(_grid(w, h, angle + np.pi / 2) / cell)
    return _mix(_colour(rng), _colour(rng), ((u + v) % 2).astype(np.float32))


def _bg_clutter(rng, w, h):
    img = _bg_gradient(rng, w, h) if rng.random() < 0.5 else _bg_solid(
        rng, w, h)
    _draw_clutter(rng, img, int(rng.integers(10, 40)))
    return img


def _draw_clutter(rng, img, count):
    """Random lines, discs, boxes and polygons: distractors, some of them
    limb-like."""
    h, w = img.shape[:2]
    size = max(w, h)
    for _ in range(count):
        colour = _colour(rng)
        kind = rng.integers(4)
        p = (rng.uniform(0, 1, 2) * (w, h)).astype(np.int32)
        q = (p + rng.normal(0, 0.25, 2) * size).astype(np.int32)
        if kind == 0:
            cv2.line(img, p.tolist(), q.tolist(), colour,
                     int(rng.integers(1, 12)), cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(img, p.tolist(), int(rng.uniform(2, 0.15 * size)),
                       colour, int(rng.choice([-1, 1, 2, 4])), cv2.LINE_AA)
        elif kind == 2:
            cv2.rectangle(img, p.tolist(), q.tolist(), colour,
                          int(rng.choice([-1, 1, 3])), cv2.LINE_AA)
        else:
            poly = _random_shape(rng, p, rng.uniform(0.05, 0.3) * size)
            cv2.fillPoly(img, [_fixed(poly)], colour, cv2.LINE_AA, _SHIFT)


_BACKGROUNDS = ((_bg_solid, 0.08), (_bg_gradient, 0.17), (_bg_noise, 0.1),
                (_bg_blurred_noise, 0.2), (_bg_stripes, 0.1),
                (_bg_checker, 0.08), (_bg_clutter, 0.27))


def _background(rng, w, h, clutter=True):
    """A random background, sometimes with clutter on top."""
    weights = np.array([p for _, p in _BACKGROUNDS])
    make = _BACKGROUNDS[rng.choice(len(weights), p=weights)][0]
    img = make(rng, w, h)
    if clutter and make is not _bg_clutter and rng.random() < 0.3:
        _draw_clutter(rng, img, int(rng.integers(3, 15)))
    return img


def _photometric(rng, img):
    """Brightness/contrast jitter, sensor noise and occasional blur."""
    out = img.astype(np.float32)
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.7, 1.3) + mean + rng.uniform(-30, 30)
    if rng.random() < 0.7:
        out += rng.normal(0, rng.uniform(1, 6), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.4))
    return out


# ----------------------------------------------------------- the images --


def _fixed(poly):
    """Polygon vertices as OpenCV's fixed-point integers."""
    return np.round(poly * (1 << _SHIFT)).astype(np.int32)


def _random_shape(rng, centre, size):
    """A rotated box, an ellipse or a star-like polygon around ``centre``."""
    kind = rng.integers(3)
    angle = rng.uniform(0, np.pi)
    if kind == 0:
        half = rng.uniform(0.3, 0.5, 2) * size
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    elif kind == 1:
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)[:, None]
        corners = np.concatenate([np.cos(t), np.sin(t)], 1) * (
            rng.uniform(0.25, 0.5, 2) * size)
    else:
        n = int(rng.integers(5, 9))
        t = np.sort(rng.uniform(0, 2 * np.pi, n))[:, None]
        radius = rng.uniform(0.25, 0.5, (n, 1)) * size
        corners = np.concatenate([np.cos(t), np.sin(t)], 1) * radius
    c, s = np.cos(angle), np.sin(angle)
    return corners @ np.array([[c, s], [-s, c]]) + np.asarray(centre, float)


def _rotation_angle(rng):
    """In-plane rotation: mostly upright, sometimes tilted, rarely any."""
    r = rng.random()
    if r < 0.8:
        return np.deg2rad(np.clip(rng.normal(0, 6), -15, 15))
    if r < 0.97:
        return np.deg2rad(rng.uniform(-60, 60))
    return np.deg2rad(rng.uniform(-180, 180))


def _offset(rng, lo, hi, dims, truncate):
    """Where to put a figure spanning ``lo..hi`` (around the origin): inside
    the image, or partly outside one border when ``truncate``."""
    size = hi - lo
    off = np.empty(2)
    for d in range(2):
        if size[d] < dims[d]:
            off[d] = rng.uniform(-lo[d], dims[d] - hi[d])
        else:
            off[d] = ((dims[d] - size[d]) / 2 - lo[d] +
                      rng.uniform(-0.25, 0.25) * (size[d] - dims[d]))
    if truncate:
        d = rng.integers(2)
        outside = rng.uniform(0.15, 0.5) * size[d]
        if rng.random() < 0.5:
            off[d] = -lo[d] - outside
        else:
            off[d] = dims[d] - hi[d] + outside
    return off


def _overlap(box, others):
    """Largest fraction of ``box`` covered by one of ``others``."""
    worst = 0.
    area = np.prod(box[1] - box[0])
    for lo, hi in others:
        inter = np.clip(np.minimum(hi, box[1]) - np.maximum(lo, box[0]), 0,
                        None)
        worst = max(worst, np.prod(inter) / area)
    return worst


def _place_people(rng, w, h):
    """1-3 posed figures in image coordinates, later ones in front."""
    count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    figures, boxes = [], []
    for _ in range(count):
        if rng.random() < 0.85:
            height = rng.uniform(0.35, 0.95 if count == 1 else 0.8) * h
        else:
            height = rng.uniform(0.15, 0.35) * h
        angle = _rotation_angle(rng)
        c, s = np.cos(angle), np.sin(angle)
        fig = _make_figure(rng, height).transformed(
            np.array([[c, -s, 0.], [s, c, 0.]]))
        lo, hi = fig.extent()
        truncate = rng.random() < 0.15
        # A few tries to keep people apart; overlaps still happen.
        best = None
        for _ in range(6):
            off = _offset(rng, lo, hi, np.array([w, h]), truncate)
            cost = _overlap((lo + off, hi + off), boxes) if boxes else 0.
            if best is None or cost < best[0]:
                best = (cost, off)
            if cost <= 0.3:
                break
        off = best[1]
        figures.append(fig.transformed(np.array([[1., 0., off[0]],
                                                 [0., 1., off[1]]])))
        boxes.append((lo + off, hi + off))
    return figures


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


# -------------------------------------------------------------- dataset --


def _render_task(task):
    """Worker: draw one image, write its JPEG, return its COCO records."""
    seed, split, index, image_size, image_dir = task
    img, annotations = render_image(seed, split, index, image_size)
    img_id = image_id(split, index)
    file_name = f'{img_id:012d}.jpg'
    ok, data = cv2.imencode('.jpg', img,
                            [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f'JPEG encoding failed for {file_name}')
    with open(osp.join(image_dir, file_name), 'wb') as f:
        f.write(data.tobytes())
    info = {
        'id': img_id,
        'file_name': file_name,
        'width': image_size[0],
        'height': image_size[1]
    }
    return split, info, annotations


def _render_all(tasks, workers, progress):
    """Yield the results of ``tasks`` in order, in ``workers`` processes."""
    bar = tqdm(total=len(tasks), desc='synthetic COCO', unit='img',
               file=sys.stderr, mininterval=1., disable=not progress)
    with bar:
        if workers <= 1:
            results = map(_render_task, tasks)
            for result in results:
                bar.update()
                yield result
            return
        chunk = max(1, min(16, len(tasks) // (8 * workers)))
        # Forked children inherit OpenCV's thread pool without its threads
        # and can hang on it (seen with torch loaded): stop those threads
        # first. The workers then run OpenCV single-threaded, as they
        # should beside each other.
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with multiprocessing.Pool(workers) as pool:
                for result in pool.imap(_render_task, tasks, chunksize=chunk):
                    bar.update()
                    yield result
        finally:
            cv2.setNumThreads(threads)


def _coco_json(images, annotations, split, seed, image_size):
    return {
        'info': {
            'description': f'DistilPose synthetic people, {split} split, '
            f'seed {seed}, {image_size[0]}x{image_size[1]}',
            'version': '1.0',
            'contributor': 'distilpose.datasets.synthetic_coco',
        },
        'licenses': [],
        'images': images,
        'annotations': annotations,
        'categories': [coco_category()],
    }


def _summary(images, annotations):
    v = np.array([ann['keypoints'][2::3] for ann in annotations],
                 int).reshape(-1, NUM_KEYPOINTS)
    return {
        'images': len(images),
        'instances': len(annotations),
        'keypoints': int(np.count_nonzero(v)),
        'occluded_keypoints': int(np.count_nonzero(v == 1)),
    }


def generate_dataset(out_dir,
                     num_train_images=1000,
                     num_val_images=200,
                     seed=0,
                     image_size=(256, 256),
                     workers=None,
                     progress=True):
    """Write a synthetic COCO person-keypoint dataset to ``out_dir``.

    Args:
        out_dir: created if needed; see the module docstring for the layout.
        num_train_images, num_val_images: images per split.
        seed: non-negative integer; the output is a function of the seed,
            the sizes and ``image_size`` only.
        image_size: ``(width, height)`` in pixels.
        workers: processes drawing images (default ``min(4, cpu_count)``);
            0 or 1 draws in this process.
        progress: show a progress bar on stderr.

    Returns:
        ``{split: {'images', 'instances', 'keypoints' (labelled),
        'occluded_keypoints'}}`` for ``train`` and ``val``.

    Annotation files of an earlier run are removed first and the new ones
    written last, so annotations always match the images on disk.
    """
    if int(seed) != seed or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed}')
    if not 0 <= num_train_images < VAL_ID_OFFSET or num_val_images < 0:
        raise ValueError('image counts must be >= 0 and the train count '
                         f'below {VAL_ID_OFFSET}')
    width, height = (int(s) for s in image_size)
    if min(width, height) < 32:
        raise ValueError(f'image_size {image_size} is too small')
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    counts = {'train': num_train_images, 'val': num_val_images}

    ann_dir = osp.join(out_dir, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    ann_files = {
        split: osp.join(ann_dir, f'person_keypoints_{split}.json')
        for split in SPLITS
    }
    tasks = []
    for split in SPLITS:
        if osp.exists(ann_files[split]):
            os.remove(ann_files[split])
        image_dir = osp.join(out_dir, split)
        os.makedirs(image_dir, exist_ok=True)
        tasks += [(int(seed), split, i, (width, height), image_dir)
                  for i in range(counts[split])]

    images = {split: [] for split in SPLITS}
    annotations = {split: [] for split in SPLITS}
    for split, info, anns in _render_all(tasks, workers, progress):
        images[split].append(info)
        annotations[split] += anns

    summary = {}
    for split in SPLITS:
        coco = _coco_json(images[split], annotations[split], split, seed,
                          (width, height))
        atomic_write(json.dumps(coco, separators=(',', ':')).encode(),
                     ann_files[split])
        summary[split] = _summary(images[split], annotations[split])
    return summary
