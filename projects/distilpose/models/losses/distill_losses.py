"""The distillation losses of DistilPose, vectorised over samples and joints.

Shapes: N samples, K keypoints, heatmaps [N, K, H, W]; coordinates are
normalised by the input size (x / w, y / h); sigma is in heatmap pixels;
``weights`` [N, K] are the keypoint weights of MMPose's ``RegressionLabel``.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import Tensor

from .loss_weight import check_loss_weight


@MODELS.register_module()
class TokenDistilLoss(nn.Module):
    """Mean squared error between student and (detached) teacher tokens."""

    def __init__(self, loss_weight: float = 5e-4):
        super().__init__()
        self.loss_weight = check_loss_weight(
            loss_weight, f'{type(self).__name__} loss_weight')

    def forward(self, student_tokens: Tensor, teacher_tokens: Tensor):
        if student_tokens.shape != teacher_tokens.shape:
            raise ValueError(
                f'Student tokens {tuple(student_tokens.shape)} and teacher '
                f'tokens {tuple(teacher_tokens.shape)} differ in shape.')
        return F.mse_loss(student_tokens,
                          teacher_tokens.detach()) * self.loss_weight


def simulate_heatmaps(coords: Tensor,
                      sigma: Tensor,
                      heatmap_size: Sequence[int],
                      coord_scale: Optional[Sequence[float]] = None):
    """Unnormalised Gaussians drawn from regressed keypoints (Simulated
    Heatmaps).

    The centre is ``(sx * x, sy * y)`` in heatmap pixels and the Gaussian is
    evaluated on the full ``h x w`` grid with peak 1. The default scale
    ``(w, h)`` is the frame of MSRA-style codecs (keypoints divided by the
    stride, no half-pixel offset), as in the official code; a UDP-style
    teacher needs ``(W_in * (w - 1) / (W_in - 1), ...)``
    (:func:`teacher_heatmap_frame` gives it).

    Args:
        coords (Tensor): [N, K, 2] normalised (x, y).
        sigma (Tensor): [N, K, 2] (sigma_x, sigma_y) in heatmap pixels.
        heatmap_size (tuple[int, int]): (w, h).
        coord_scale (tuple[float, float], optional): (sx, sy), heatmap
            pixels per unit of normalised coordinate. Defaults to (w, h).

    Returns:
        tuple[Tensor, Tensor]: heatmaps [N, K, h, w] and the in-bounds mask
        [N, K] of the official code (1 where mu -/+ 3 sigma overlaps the map;
        always 1 for sigmoid coordinates).
    """
    w, h = heatmap_size
    size = coords.new_tensor([w, h])
    mu = coords * coords.new_tensor(coord_scale or (w, h))
    xs = torch.arange(w, device=coords.device, dtype=coords.dtype)
    ys = torch.arange(h, device=coords.device, dtype=coords.dtype)
    var = sigma.square() + 1e-9
    gx = (xs - mu[..., 0:1]).square() / var[..., 0:1]  # [N, K, w]
    gy = (ys - mu[..., 1:2]).square() / var[..., 1:2]  # [N, K, h]
    heatmaps = torch.exp(-0.5 * (gy.unsqueeze(-1) + gx.unsqueeze(-2)))
    in_bounds = ((mu - 3 * sigma < size) & (mu + 3 * sigma + 1 >= 0)).all(-1)
    return heatmaps, in_bounds.to(coords.dtype)


@MODELS.register_module()
class SimulatedHeatmapLoss(nn.Module):
    """MSE between the student's simulated heatmaps and the teacher's raw
    heatmaps.

    Two reductions:

    - ``'masked'`` (default, what the official code intends): the mean over
      samples, joints and pixels of ``(w_nk * (S_nk - T_nk))^2``;
    - ``'official'``: the value the official code computes because of a
      broadcasting slip: per joint, the fraction of the batch where the
      joint is labelled, ``mean_n(w_nk^2)``, times an *unmasked* MSE over all
      samples, then averaged over joints. Use it to reproduce official runs.

    Args:
        heatmap_size (tuple[int, int]): (w, h) of the teacher heatmaps.
        coord_scale (tuple[float, float], optional): The teacher's heatmap
            frame (see :func:`simulate_heatmaps`); the distiller sets it
            from the teacher's codec. Defaults to (w, h).
        reduction_mode (str): ``'masked'`` or ``'official'``.
        loss_weight (float): Loss weight.
    """

    modes = ('masked', 'official')

    def __init__(self,
                 heatmap_size: Sequence[int] = (48, 64),
                 coord_scale: Optional[Sequence[float]] = None,
                 reduction_mode: str = 'masked',
                 loss_weight: float = 1.):
        super().__init__()
        if reduction_mode not in self.modes:
            raise ValueError(f'reduction_mode must be one of {self.modes}, '
                             f'got {reduction_mode!r}.')
        self.heatmap_size = tuple(heatmap_size)
        self.coord_scale = None if coord_scale is None else tuple(coord_scale)
        self.reduction_mode = reduction_mode
        self.loss_weight = check_loss_weight(
            loss_weight, f'{type(self).__name__} loss_weight')

    def forward(self, coords: Tensor, sigma: Tensor, teacher_heatmaps: Tensor,
                weights: Tensor) -> Tensor:
        w, h = self.heatmap_size
        if teacher_heatmaps.shape[-2:] != (h, w):
            raise ValueError(
                f'Teacher heatmaps are {teacher_heatmaps.shape[-1]}x'
                f'{teacher_heatmaps.shape[-2]} (w x h) but the loss simulates '
                f'{w}x{h}: set heatmap_size to the teacher head\'s size.')
        heatmaps, in_bounds = simulate_heatmaps(coords, sigma,
                                                self.heatmap_size,
                                                self.coord_scale)
        weights = weights * in_bounds
        sq_err = (heatmaps - teacher_heatmaps.detach()).square().mean((2, 3))
        if self.reduction_mode == 'masked':
            loss = (weights.square() * sq_err).mean()
        else:
            loss = (weights.square().mean(0) * sq_err.mean(0)).mean()
        return loss * self.loss_weight


@MODELS.register_module()
class ScoreDistilLoss(nn.Module):
    """L1 loss between the predicted score and the teacher heatmap value at
    the student's own predicted location.

    The location is rounded to the teacher's grid with indices scaled by
    ``coord_scale``; no gradient reaches the coordinates. The target is 0
    where the prediction lies outside ``[0, 1]^2`` and NaN where it is not
    finite.

    Args:
        loss_weight (float): Loss weight.
        coord_scale (tuple[float, float], optional): The teacher's heatmap
            frame, as for :class:`SimulatedHeatmapLoss` (the distiller sets
            it from the teacher's codec unless the config names it). None
            is the official lookup, ``(w - 1, h - 1)``, which differs from
            the frame of the official simulated heatmaps, ``(w, h)``, by up
            to one pixel.
    """

    def __init__(self,
                 loss_weight: float = 0.01,
                 coord_scale: Optional[Sequence[float]] = None):
        super().__init__()
        self.loss_weight = check_loss_weight(
            loss_weight, f'{type(self).__name__} loss_weight')
        self.coord_scale = None if coord_scale is None else tuple(coord_scale)

    @staticmethod
    def score_targets(coords: Tensor,
                      teacher_heatmaps: Tensor,
                      coord_scale: Optional[Sequence[float]] = None) -> \
            Tensor:
        """Teacher heatmap values at the rounded predicted locations,
        [N, K, 1]."""
        n, k, h, w = teacher_heatmaps.shape
        coords = coords.detach()
        finite = torch.isfinite(coords).all(-1)
        inside = ((coords >= 0) & (coords <= 1)).all(-1)
        scale = coords.new_tensor(coord_scale or (w - 1, h - 1))
        # NaN survives clamp and becomes INT64_MIN as an index: look up
        # (0, 0) instead and give those joints a NaN target, so that the
        # loss is non-finite and FiniteLossHook names it.
        safe_coords = torch.where(finite.unsqueeze(-1), coords, 0)
        ij = (safe_coords.clamp(0, 1) * scale).round().long()
        # A frame wider than w - 1 (UDP, or stride-style) reaches w at x = 1.
        ij = torch.minimum(ij, ij.new_tensor([w - 1, h - 1]))
        flat_idx = ij[..., 1] * w + ij[..., 0]
        values = teacher_heatmaps.detach().flatten(2).gather(
            2, flat_idx.unsqueeze(-1))
        values = values * inside.unsqueeze(-1).to(values.dtype)
        return values.masked_fill(~finite.unsqueeze(-1), float('nan'))

    def forward(self, score: Tensor, coords: Tensor, teacher_heatmaps: Tensor,
                weights: Tensor) -> Tensor:
        target = self.score_targets(coords, teacher_heatmaps,
                                    self.coord_scale)
        loss = (weights.unsqueeze(-1) * (score - target)).abs().mean()
        return loss * self.loss_weight
