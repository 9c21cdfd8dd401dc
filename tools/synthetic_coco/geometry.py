"""Polygons of the drawn shapes and the 3-D directions of a posed body.

Every shape is a polygon of float vertices, filled by OpenCV with
``_SHIFT`` fractional bits (sub-pixel placement, anti-aliased edges).
"""
import cv2
import numpy as np

_SHIFT = 4  # fractional bits of polygon vertices given to OpenCV


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
