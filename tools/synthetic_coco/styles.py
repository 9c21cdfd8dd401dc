"""Colours: random ones for clothes, backgrounds and occluders, palettes
of skin tones and hair, and one person's colour scheme."""
import colorsys

import numpy as np

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
