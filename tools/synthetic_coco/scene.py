"""Everything around the people: random backgrounds (solid, gradients,
noise, stripes, checkers, clutter of limb-like distractors), photometric
jitter, and where 1-3 figures go in the image (size, in-plane rotation,
truncation at a border, few overlaps)."""
import cv2
import numpy as np

from .figure import _make_figure
from .geometry import _SHIFT, _fixed, _random_shape
from .styles import _colour


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
