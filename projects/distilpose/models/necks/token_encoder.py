"""Token-distilling encoder (TDE): the transformer shared by DistilPose
students and TokenPose teachers.

The layout of the official release is kept (17 keypoint tokens prepended to
the patch tokens, a fixed sine positional embedding re-added to the patch
tokens before every pre-norm layer, no final LayerNorm), written in the style
of timm's ``vision_transformer`` with fused attention.
"""
import math
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpose.registry import MODELS
from torch import Tensor


def sine_position_embedding(grid_h: int,
                            grid_w: int,
                            embed_dims: int,
                            temperature: float = 10000.,
                            scale: float = 2 * math.pi) -> Tensor:
    """The fixed 2-D sine table of TokenPose ('sine-full'), [1, h*w, dims].

    Channels ``[0, dims/2)`` encode the patch row, the rest the column, each
    as interleaved (sin, cos) pairs. Computed in float32 in the same order of
    operations as the official code, so it reproduces the stored tables.
    """
    if embed_dims % 4:
        raise ValueError(f'embed_dims must be a multiple of 4 for the 2-D '
                         f'sine embedding, got {embed_dims}.')
    eps = 1e-6
    area = torch.ones(1, grid_h, grid_w)
    y_embed = area.cumsum(1, dtype=torch.float32)
    x_embed = area.cumsum(2, dtype=torch.float32)
    y_embed = y_embed / (y_embed[:, -1:, :] + eps) * scale
    x_embed = x_embed / (x_embed[:, :, -1:] + eps) * scale
    half = embed_dims // 2
    dim_t = torch.arange(half, dtype=torch.float32)
    dim_t = temperature**(2 * torch.div(dim_t, 2, rounding_mode='floor') /
                          half)
    pos_x = x_embed[..., None] / dim_t
    pos_y = y_embed[..., None] / dim_t
    pos_x = torch.stack((pos_x[..., 0::2].sin(), pos_x[..., 1::2].cos()),
                        dim=4).flatten(3)
    pos_y = torch.stack((pos_y[..., 0::2].sin(), pos_y[..., 1::2].cos()),
                        dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).flatten(1, 2)


class Attention(nn.Module):
    """Multi-head self-attention; qkv has no bias (official layout)."""

    def __init__(self, dims: int, num_heads: int, fused_attn: bool = True):
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'embed_dims ({dims}) must be divisible by '
                             f'num_heads ({num_heads}).')
        self.num_heads = num_heads
        self.head_dims = dims // num_heads
        self.scale = self.head_dims**-0.5
        self.fused_attn = fused_attn
        self.qkv = nn.Linear(dims, dims * 3, bias=False)
        self.proj = nn.Linear(dims, dims)

    def forward(self, x: Tensor) -> Tensor:
        n, t, c = x.shape
        # q, k, v as [N, heads, T, head_dims]: a split, then one reshape and
        # transpose each (the same values as one 5-D permute), a form
        # OpenVINO fuses into its attention kernel (docs/deployment.md)
        q, k, v = (
            y.reshape(n, t, self.num_heads, self.head_dims).transpose(1, 2)
            for y in self.qkv(x).chunk(3, dim=-1))
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            x = attn.softmax(dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(n, t, c))


class Mlp(nn.Module):
    """Linear -> exact GELU -> Linear."""

    def __init__(self, dims: int, hidden_dims: int):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float,
                 fused_attn: bool):
        super().__init__()
        self.ln1 = nn.LayerNorm(dims)
        self.attn = Attention(dims, num_heads, fused_attn)
        self.ln2 = nn.LayerNorm(dims)
        self.mlp = Mlp(dims, int(dims * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


@MODELS.register_module()
class TokenDistillingEncoder(BaseModule):
    """Token-distilling encoder (TDE) of DistilPose, also TokenPose's encoder.

    The last backbone feature map is cut into non-overlapping patches, each
    projected to a visual token; ``num_keypoints`` learned keypoint tokens are
    prepended, and the sequence goes through ``depth`` pre-norm transformer
    layers. A fixed 2-D sine embedding is added to the visual tokens before
    every layer, never to the keypoint tokens.

    The patch projection is a Conv2d with kernel = stride = patch size; it is
    the official ``Linear`` over (row, column, channel)-flattened patches with
    the weight reshaped (see ``tools/convert_official.py``).

    Sizes follow MMPose's (width, height) order. With the defaults, a 256x192
    input and a stride-4 backbone give a 64x48 map, 4x3 patches and a 16x16
    grid of 256 visual tokens.

    Args:
        in_channels (int): Channels of the backbone feature map.
        input_size (tuple[int, int]): Model input size (w, h).
        feature_stride (int): Stride of the backbone feature map.
        patch_size (tuple[int, int]): Patch size (w, h) in feature pixels.
        num_keypoints (int): Number of keypoint tokens K.
        embed_dims (int): Token dimension.
        depth (int): Number of transformer layers.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden size of the MLP relative to ``embed_dims``.
        fused_attn (bool): Use ``F.scaled_dot_product_attention``. The
            explicit form gives the same result and is visible to FLOP
            counters.
        upsample (int): Upsample the feature map bilinearly by this factor
            before cutting it into patches (``patch_size`` is then in
            upsampled pixels). A student whose backbone runs at reduced
            resolution (``HRNet3Stage(input_pool=2)``, stride 8) keeps its
            teacher's patch grid with ``upsample=2``, so that its visual
            tokens can be distilled. Default 1 (none).
        init_cfg (dict | list[dict], optional): Initialisation config.

    Returns (from ``forward``):
        tuple[Tensor, Tensor]: keypoint tokens [N, K, D] and visual tokens
        [N, P, D], the raw outputs of the last layer.
    """

    def __init__(self,
                 in_channels: int,
                 input_size: Sequence[int] = (192, 256),
                 feature_stride: int = 4,
                 patch_size: Sequence[int] = (3, 4),
                 num_keypoints: int = 17,
                 embed_dims: int = 192,
                 depth: int = 12,
                 num_heads: int = 8,
                 mlp_ratio: float = 3.,
                 fused_attn: bool = True,
                 upsample: int = 1,
                 init_cfg=[
                     dict(type='TruncNormal', layer=['Linear', 'Conv2d'],
                          std=0.02, bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
                 ]):
        super().__init__(init_cfg=init_cfg)
        if isinstance(upsample, bool) or not isinstance(upsample, int) \
                or upsample < 1:
            raise ValueError(f'upsample={upsample!r}: give a positive '
                             'integer (1: no upsampling).')
        self.input_size = tuple(input_size)
        self.feature_stride = feature_stride
        self.upsample = upsample
        self.patch_size = tuple(patch_size)
        self.feature_size = self._feature_size(self.input_size,
                                               feature_stride)
        fw, fh = (upsample * size for size in self.feature_size)
        pw, ph = self.patch_size
        if fw % pw or fh % ph:
            raise ValueError(
                f'The {fw}x{fh} (w x h) feature map of a {input_size} input '
                f'at stride {feature_stride} (upsampled x{upsample}) does '
                f'not divide into {pw}x{ph} patches. Choose patch_size and '
                'input_size so that the feature width and height are '
                'multiples of the patch width and height.')
        self.grid_size = (fw // pw, fh // ph)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.num_keypoints = num_keypoints
        self.in_channels = in_channels
        self.embed_dims = embed_dims

        self.patch_embed = nn.Conv2d(
            in_channels, embed_dims, kernel_size=(ph, pw), stride=(ph, pw))
        self.keypoint_tokens = nn.Parameter(
            torch.zeros(1, num_keypoints, embed_dims))
        # Zero rows for the keypoint tokens, so that one add gives every
        # layer its positional input without slicing the sequence.
        pos_embed = sine_position_embedding(self.grid_size[1],
                                            self.grid_size[0], embed_dims)
        pos_embed = torch.cat(
            [pos_embed.new_zeros(1, num_keypoints, embed_dims), pos_embed], 1)
        # Not persistent: the table is fixed and rebuilt from its formula.
        self.register_buffer('pos_embed', pos_embed, persistent=False)
        self.layers = nn.ModuleList([
            EncoderLayer(embed_dims, num_heads, mlp_ratio, fused_attn)
            for _ in range(depth)
        ])

    @staticmethod
    def _feature_size(input_size, stride) -> Tuple[int, int]:
        w, h = input_size
        if w % stride or h % stride:
            raise ValueError(
                f'input_size {tuple(input_size)} is not a multiple of the '
                f'feature stride {stride}.')
        return w // stride, h // stride

    def init_weights(self):
        super().init_weights()
        if not (isinstance(self.init_cfg, dict)
                and self.init_cfg.get('type') == 'Pretrained'):
            trunc_normal_(self.keypoint_tokens, std=0.02)

    def forward(self, inputs) -> Tuple[Tensor, Tensor]:
        feat = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if feat.shape[-2:] != self.feature_size[::-1]:
            fw, fh = self.feature_size
            raise ValueError(
                f'{type(self).__name__} was built for a {fw}x{fh} (w x h) '
                f'feature map (input_size={self.input_size}, '
                f'feature_stride={self.feature_stride}) but got '
                f'{feat.shape[-1]}x{feat.shape[-2]}. The input size of the '
                'data pipeline, codec and this neck must agree.')
        if feat.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} expects {self.in_channels} input '
                f'channels but the backbone gives {feat.shape[1]}.')
        if self.upsample > 1:
            feat = F.interpolate(feat, scale_factor=self.upsample,
                                 mode='bilinear', align_corners=False)
        x = self.patch_embed(feat).flatten(2).transpose(1, 2)
        x = torch.cat([self.keypoint_tokens.expand(x.shape[0], -1, -1), x],
                      dim=1)
        for layer in self.layers:
            x = layer(x + self.pos_embed)
        k = self.num_keypoints
        return x[:, :k], x[:, k:]
