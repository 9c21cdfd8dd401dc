import copy

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.models.backbones.resnet import Bottleneck, ResLayer
from mmpose.registry import MODELS


@MODELS.register_module()
class StemNet(BaseBackbone):
    """The light backbone of DistilPose-S: an HRNet stem plus one ResNet stage.

    Two stride-2 3x3 convolutions (3 -> 64 -> 64) followed by ``num_blocks``
    Bottleneck blocks (64 -> 256 channels). The output has stride 4, e.g.
    [N, 256, 64, 48] for a 256x192 input. State-dict keys follow the official
    DistilPose release (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``layer1.*``).

    Args:
        in_channels (int): Number of input image channels. Defaults to 3.
        stem_channels (int): Channels of the two stem convolutions.
        out_channels (int): Output channels of the bottleneck stage.
        num_blocks (int): Number of Bottleneck blocks.
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict): Config of the norm layers. Defaults to BN.
        init_cfg (dict | list[dict]): Initialisation config. Defaults to
            Normal(std=0.001) for convs and constant 1 for BN, as in HRNet.
    """

    def __init__(self,
                 in_channels=3,
                 stem_channels=64,
                 out_channels=256,
                 num_blocks=4,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 init_cfg=[
                     dict(type='Normal', std=0.001, layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]):
        super().__init__(init_cfg=init_cfg)
        norm_cfg = copy.deepcopy(norm_cfg)
        self.out_channels = out_channels
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, stem_channels, 3, stride=2, padding=1,
            bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.conv2 = build_conv_layer(
            conv_cfg, stem_channels, stem_channels, 3, stride=2, padding=1,
            bias=False)
        self.bn2 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = ResLayer(
            Bottleneck,
            num_blocks=num_blocks,
            in_channels=stem_channels,
            out_channels=out_channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return (self.layer1(x), )
