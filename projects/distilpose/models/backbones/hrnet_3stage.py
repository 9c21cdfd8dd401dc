import copy

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.models.backbones.hrnet import HRNet
from mmpose.models.backbones.resnet import get_expansion
from mmpose.registry import MODELS


@MODELS.register_module()
class HRNet3Stage(HRNet):
    """HRNet truncated after stage 3 (the backbone of DistilPose-L).

    Identical to MMPose's :class:`HRNet` up to stage 3, with no transition 3 or
    stage 4. Unless ``extra['stage3']['multiscale_output']`` is True, the last
    stage-3 module fuses into the high-resolution branch only, and the
    backbone returns that single map, e.g. [N, 48, 64, 48] for W48 at
    256x192. Key names match MMPose's HRNet (and the official DistilPose-L
    checkpoints), so stages 1-3 of a 4-stage HRNet load into it directly.

    Args:
        extra (dict): ``stage1``, ``stage2`` and ``stage3`` configs as for
            :class:`HRNet`. A ``stage4`` entry is rejected.
        Other arguments are those of :class:`HRNet`.
    """

    def __init__(self,
                 extra,
                 in_channels=3,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 norm_eval=False,
                 with_cp=False,
                 zero_init_residual=False,
                 frozen_stages=-1,
                 init_cfg=[
                     dict(type='Normal', std=0.001, layer=['Conv2d']),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        if 'stage4' in extra:
            raise ValueError(
                'HRNet3Stage builds stages 1-3 only, but `extra` has a '
                "'stage4' entry: use type='HRNet' for a 4-stage HRNet.")
        if frozen_stages > 3:
            raise ValueError(f'frozen_stages={frozen_stages}, but HRNet3Stage '
                             'has only 3 stages.')
        # HRNet.__init__ insists on a stage 4, so the stages are built here
        # with HRNet's own helpers instead.
        BaseBackbone.__init__(self, init_cfg=init_cfg)
        self.extra = extra
        self.conv_cfg = conv_cfg
        self.norm_cfg = copy.deepcopy(norm_cfg)
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        self.frozen_stages = frozen_stages
        self.upsample_cfg = extra.get('upsample', dict(
            mode='nearest', align_corners=None))

        self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, 64, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(self.norm_cfg, 64, postfix=2)
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, 64, 3, stride=2, padding=1, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(
            conv_cfg, 64, 64, 3, stride=2, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)

        self.stage1_cfg = extra['stage1']
        block = self.blocks_dict[self.stage1_cfg['block']]
        stage1_out_channels = (
            self.stage1_cfg['num_channels'][0] * get_expansion(block))
        self.layer1 = self._make_layer(block, 64, stage1_out_channels,
                                       self.stage1_cfg['num_blocks'][0])

        self.stage2_cfg = extra['stage2']
        channels = self._stage_channels(self.stage2_cfg)
        self.transition1 = self._make_transition_layer([stage1_out_channels],
                                                       channels)
        self.stage2, pre_channels = self._make_stage(self.stage2_cfg, channels)

        self.stage3_cfg = extra['stage3']
        channels = self._stage_channels(self.stage3_cfg)
        self.transition2 = self._make_transition_layer(pre_channels, channels)
        self.stage3, _ = self._make_stage(
            self.stage3_cfg,
            channels,
            multiscale_output=self.stage3_cfg.get('multiscale_output', False))
        self._freeze_stages()

    def _freeze_stages(self):
        """Freeze the stem and the first ``frozen_stages`` stages."""
        if self.frozen_stages < 0:
            return
        stages = [[self.layer1, self.transition1],
                  [self.stage2, self.transition2], [self.stage3]]
        frozen = [self.conv1, self.norm1, self.conv2, self.norm2]
        for modules in stages[:self.frozen_stages]:
            frozen += modules
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def _stage_channels(self, stage_cfg):
        block = self.blocks_dict[stage_cfg['block']]
        return [c * get_expansion(block) for c in stage_cfg['num_channels']]

    def forward(self, x):
        x = self.relu(self.norm1(self.conv1(x)))
        x = self.relu(self.norm2(self.conv2(x)))
        x = self.layer1(x)
        x_list = [
            trans(x) if trans is not None else x for trans in self.transition1
        ]
        y_list = self.stage2(x_list)
        x_list = [
            trans(y_list[-1]) if trans is not None else y_list[i]
            for i, trans in enumerate(self.transition2)
        ]
        return tuple(self.stage3(x_list))
