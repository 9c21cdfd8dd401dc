"""The demo's comparison figure: rows = crops, columns = models, each
model's keypoints drawn large enough to see a joint."""
import cv2
import numpy as np
from demo_helpers import (LEFT_COLOUR, PANEL_H, PANEL_W, RIGHT_COLOUR,
                          draw_comparison)

# A standing person in a panel, COCO-17 order (x, y).
POSE = np.array([[120, 60], [128, 52], [112, 52], [136, 56], [104, 56],
                 [150, 100], [90, 100], [160, 150], [80, 150], [165, 195],
                 [75, 195], [140, 190], [100, 190], [142, 245], [98, 245],
                 [144, 295], [96, 295]], float)


def colour_pixels(img, colour, tol=3):
    return int(np.count_nonzero(
        (np.abs(img.astype(int) - colour) <= tol).all(-1)))


def test_two_crops_three_models(tmp_path):
    crops = [np.full((PANEL_H, PANEL_W, 3), value, np.uint8)
             for value in (90, 160)]
    predictions = [[POSE + shift, POSE - shift] for shift in (0, 5, 10)]
    titles = ['TokenPose teacher\nAP 0.590', 'DistilPose student\nAP 0.295',
              'regression baseline\nAP 0.127']
    path = draw_comparison(crops, predictions, titles,
                           str(tmp_path / 'figure' / 'comparison.png'),
                           caption='generated val crops')
    img = cv2.imread(path)
    assert img is not None
    # Three panels across and two down, each upscaled to >= 256 px tall,
    # plus the titles, the caption and thin gaps.
    assert PANEL_H >= 256
    height, width = img.shape[:2]
    assert 3 * PANEL_W <= width <= 3 * PANEL_W + 80, img.shape
    assert 2 * PANEL_H + 60 <= height <= 2 * PANEL_H + 160, img.shape
    # Six panels of 8 left-side joints (filled circles) and their links.
    assert colour_pixels(img, LEFT_COLOUR) > 6 * 8 * 60
    assert colour_pixels(img, RIGHT_COLOUR) > 6 * 8 * 60
    # The crops are kept under the drawing.
    assert colour_pixels(img, (90, 90, 90), tol=0) > PANEL_W * PANEL_H
    assert colour_pixels(img, (160, 160, 160), tol=0) > PANEL_W * PANEL_H
