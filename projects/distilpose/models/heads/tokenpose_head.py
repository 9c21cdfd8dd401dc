from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from torch import Tensor

from ..losses.loss_weight import check_loss_weights


@MODELS.register_module()
class TokenPoseHead(HeatmapHead):
    """TokenPose heatmap head: keypoint tokens -> heatmaps (the teacher).

    Each keypoint token goes through LN -> Linear -> LN -> Linear to a
    flattened ``heatmap_size`` map (row-major), no activation in between.
    The hidden size follows TokenPose: ``w*h // 8`` if ``in_channels`` is at
    most half of it, else a single LN -> Linear. Training (``loss``) and
    prediction (flip test, decoding with the codec) are those of MMPose's
    :class:`HeatmapHead`.

    Args:
        in_channels (int): Token dimension.
        out_channels (int): Number of keypoints K.
        heatmap_size (tuple[int, int]): Heatmap size (w, h).
        hidden_dims (int, optional): Hidden size; ``None`` applies the
            TokenPose rule above, 0 forces the single-Linear form.
        loss (dict): Heatmap loss config.
        decoder (dict, optional): Codec config used by ``predict``.
        zero_init_last (bool): Start the last Linear at zero instead of
            TokenPose's truncated normal (std 0.02). Not the official
            initialisation (see docs/demo.md for what it
            does and does not change). Default False.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 192,
                 out_channels: int = 17,
                 heatmap_size: Sequence[int] = (48, 64),
                 hidden_dims: Optional[int] = None,
                 loss: dict = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 decoder: Optional[dict] = None,
                 zero_init_last: bool = False,
                 init_cfg=[
                     dict(type='TruncNormal', layer='Linear', std=0.02,
                          bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
                 ]):
        # No deconv, conv or final layers (identities): the tokens become
        # heatmaps in the MLP below; HeatmapHead's loss and predict apply.
        super().__init__(
            in_channels,
            out_channels,
            deconv_out_channels=None,
            conv_out_channels=None,
            final_layer=None,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)
        check_loss_weights(self.loss_module, 'model.head.loss')
        self.heatmap_size = tuple(heatmap_size)
        self.zero_init_last = zero_init_last
        if decoder is not None:
            codec_size = tuple(self.decoder.heatmap_size)
            if codec_size != self.heatmap_size:
                raise ValueError(
                    f'TokenPoseHead heatmap_size {self.heatmap_size} differs '
                    f'from its decoder heatmap_size {codec_size}.')
        w, h = self.heatmap_size
        if hidden_dims is None:
            hidden_dims = w * h // 8
            if in_channels > 0.5 * hidden_dims:
                hidden_dims = 0
        if hidden_dims:
            self.mlp = nn.Sequential(
                nn.LayerNorm(in_channels), nn.Linear(in_channels, hidden_dims),
                nn.LayerNorm(hidden_dims), nn.Linear(hidden_dims, w * h))
        else:
            self.mlp = nn.Sequential(
                nn.LayerNorm(in_channels), nn.Linear(in_channels, w * h))

    def init_weights(self):
        super().init_weights()
        if self.zero_init_last:
            # Measured on a memorisation probe (docs/demo.md): with
            # TokenPose's random last layer the loss stalls at the mean map,
            # from zero it falls to 0.09x of it in 150 steps.
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Keypoint tokens [N, K, D] (``feats[0]``) -> heatmaps
        [N, K, h, w]."""
        kpt_tokens = feats[0]
        w, h = self.heatmap_size
        return self.mlp(kpt_tokens).unflatten(-1, (h, w))
