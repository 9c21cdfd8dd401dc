import torch.nn.functional as F
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
        input_pool (int): Average-pool the input by this factor before the
            stem (a parameter-free layer: the keys and shapes stay those of
            :class:`HRNet`). 2 runs the network at half resolution, a
            quarter of the FLOPs, and doubles the output stride. Default 1.
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
                 input_pool=1,
                 init_cfg=[
                     dict(type='Normal', std=0.001, layer=['Conv2d']),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        if not isinstance(input_pool, int) or input_pool < 1:
            raise ValueError(f'input_pool={input_pool!r}: give a positive '
                             'integer (1: no pooling).')
        if 'stage4' in extra:
            raise ValueError(
                'HRNet3Stage builds stages 1-3 only, but `extra` has a '
                "'stage4' entry: use type='HRNet' for a 4-stage HRNet.")
        if frozen_stages > 3:
            raise ValueError(f'frozen_stages={frozen_stages}, but HRNet3Stage '
                             'has only 3 stages.')
        # HRNet.__init__ builds a stage 4 from extra['stage4']: an empty one
        # (no modules, the stage-3 branches: identity transitions) adds no
        # layer, no parameter and no draw of the random generator, and is
        # removed below.
        extra = dict(extra, stage4=dict(extra['stage3'], num_modules=0))
        super().__init__(
            extra,
            in_channels=in_channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            norm_eval=norm_eval,
            with_cp=with_cp,
            zero_init_residual=zero_init_residual,
            frozen_stages=frozen_stages,
            init_cfg=init_cfg)
        del self.transition3, self.stage4, self.stage4_cfg
        del self.extra['stage4']
        self.input_pool = input_pool

    def _make_stage(self, layer_config, in_channels, multiscale_output=True):
        # HRNet builds stage 3 with multi-scale outputs (stage 4 fuses them);
        # as the last stage here it fuses into the high-resolution branch
        # unless the config asks for all branches.
        if layer_config is self.extra['stage3']:
            multiscale_output = layer_config.get('multiscale_output', False)
        return super()._make_stage(layer_config, in_channels,
                                   multiscale_output)

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
        if self.input_pool > 1:
            x = F.avg_pool2d(x, self.input_pool)
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
