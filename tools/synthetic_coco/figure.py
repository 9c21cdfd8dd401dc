"""The articulated person: body proportions, a random human-like pose,
and the figure built from them, its keypoints placed in 3-D and its parts
drawn as polygons sorted back to front.

Image axes: x right, y down, z towards the camera. Each keypoint also gets
what decides its COCO visibility besides other figures and occluders: face
points hidden behind the own head, points a COCO annotator would not label,
and far-side shoulders and hips hidden behind the torso.
"""
from dataclasses import dataclass, replace

import numpy as np

from .geometry import (_body_axes, _capsule, _circle, _ellipse, _hull, _rot_z,
                       _unit)
from .skeleton import (_FOREARM, _HEAD, _SHIN, _THIGH, _TORSO, _UPPER_ARM,
                       L_ANK, L_EAR, L_ELB, L_EYE, L_HIP, L_KNE, L_SHO, L_WRI,
                       NOSE, NUM_KEYPOINTS, R_EAR, R_EYE, R_HIP, R_SHO, _limb)
from .styles import _sample_style, _shade

_DOWN = np.array([0., 1., 0.])


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
