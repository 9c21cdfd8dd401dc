from typing import Optional, Union

import torch
import torch.nn as nn
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, SampleList
from torch import Tensor

from ...checkpoint import load_state_dict_strictly, read_state_dict
from ..heads import DistilPoseHead, TokenPoseHead
from ..losses import check_loss_weight, check_loss_weights
from ..necks import TokenDistillingEncoder
from ..utils.bf16 import in_bf16, in_fp32
from .teacher import (is_heatmap_head, load_teacher_model_cfg,
                      teacher_heatmap_frame)

#: Distillation terms, by the name used in ``distill_losses`` and logs.
DISTILL_TERMS = ('vis_token', 'kpt_token', 'sim_heatmap', 'score')
#: The terms that need a teacher with a token encoder (TokenPose).
TOKEN_TERMS = ('vis_token', 'kpt_token')


@MODELS.register_module()
class DistilPoseDistiller(TopdownPoseEstimator):
    """DistilPose training model: a top-down student distilled from a frozen
    heatmap teacher (TokenPose in the paper; any MMPose top-down heatmap
    model for the heatmap terms).

    The student is this model itself (``backbone``, ``neck`` =
    :class:`TokenDistillingEncoder`, ``head`` = :class:`DistilPoseHead`), so
    its state dict, checkpoints and predictions are those of the plain
    student ``TopdownPoseEstimator``: a checkpoint saved during distillation
    loads directly into the student's inference config.

    The teacher is built from ``teacher_cfg`` and ``teacher_ckpt`` (strict
    load) and kept outside the module tree: it is not in ``parameters()``,
    the optimizer or ``state_dict()``, follows ``.to()``/``.cuda()``, stays in
    eval mode through every ``train()`` call and runs under ``no_grad``.

    Args:
        backbone, neck, head: The student, as for ``TopdownPoseEstimator``.
        teacher_cfg (str | dict): The teacher: a config file, an
            ``mmpose::`` config path (as MMPose's ``_base_`` takes), a
            config dict holding ``model`` or a model dict. Any top-down
            model whose head is a ``HeatmapHead`` (or subclass: ViTPose,
            ViPNAS, :class:`TokenPoseHead`) and whose codec is MSRA-, Megvii-
            or UDP-style, on the student's input size and keypoints.
        teacher_ckpt (str): The teacher checkpoint (an ordinary MMPose
            checkpoint; official DistilPose teachers converted with
            ``tools/convert_official.py``): a path, or a URL read from
            torch's hub cache, loaded with ``weights_only=True``.
        distill_losses (dict): Loss configs keyed by the terms
            ``vis_token``, ``kpt_token`` (these two need a TokenPose
            teacher), ``sim_heatmap``, ``score``; any subset.
            ``sim_heatmap`` and ``score`` take the teacher's heatmap size
            and frame (:func:`teacher_heatmap_frame`) unless their configs
            name ``heatmap_size`` / ``coord_scale``.
        init_backbone_from_teacher (bool): Start the student backbone from
            the teacher backbone's weights (DistilPose-L: its 3-stage HRNet
            from the teacher's HRNet-W48 stages 1-3). Every student backbone
            key must exist in the teacher with the same shape.
        teacher_precision (str): 'fp32' (default, the official recipe:
            float32 with autocast off, also inside a mixed-precision
            step) or 'bf16': the frozen teacher's forward under BF16
            autocast on the inputs' device, its outputs cast back to
            float32 (about half its time on GPUs and on CPUs with
            AVX512-BF16 or AMX; slower than fp32 on CPUs without them,
            which a warning names; the targets are then no longer
            bit-identical to fp32's).
        Other arguments are those of ``TopdownPoseEstimator``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 head: ConfigType,
                 teacher_cfg: Union[str, dict],
                 teacher_ckpt: Optional[str],
                 distill_losses: dict = dict(
                     vis_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
                     kpt_token=dict(type='TokenDistilLoss', loss_weight=5e-4),
                     sim_heatmap=dict(type='SimulatedHeatmapLoss'),
                     score=dict(type='ScoreDistilLoss', loss_weight=0.01)),
                 init_backbone_from_teacher: bool = False,
                 teacher_precision: str = 'fp32',
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg=None,
                 metainfo: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            metainfo=metainfo)
        if not isinstance(self.neck, TokenDistillingEncoder) or \
                not isinstance(self.head, DistilPoseHead):
            raise TypeError(
                'The DistilPose student needs a TokenDistillingEncoder neck '
                'and a DistilPoseHead.')
        if teacher_precision not in ('fp32', 'bf16'):
            raise ValueError(f'teacher_precision={teacher_precision!r}: '
                             "choose 'fp32' or 'bf16'.")
        self.teacher_precision = teacher_precision
        teacher = self._build_teacher(teacher_cfg, data_preprocessor)
        load_state_dict_strictly(
            teacher, read_state_dict(teacher_ckpt, role='teacher'),
            source=f'teacher checkpoint {teacher_ckpt}')
        teacher.requires_grad_(False)
        teacher.eval()
        # The invisible teacher: stored outside the module tree (a plain
        # attribute, not a registered submodule), so it is not in
        # parameters() (the optimizer), state_dict() (every student
        # checkpoint would carry it) or what DDP wraps and synchronises.
        # _apply() and train() below carry it along on .to()/.cuda() and
        # keep it in eval mode; __repr__ shows it.
        object.__setattr__(self, 'teacher', teacher)
        self.init_backbone_from_teacher = init_backbone_from_teacher
        self.distill_losses = self._build_distill_losses(distill_losses)
        # The head's loss (MMPose's or the project's) and every term
        check_loss_weights(self)

    # ----------------------------------------------------------- building
    def _build_teacher(self, teacher_cfg, data_preprocessor) -> nn.Module:
        teacher_cfg = load_teacher_model_cfg(teacher_cfg)
        # The teacher sees the student's preprocessed batch.
        t_prep = teacher_cfg.pop('data_preprocessor', None)
        if t_prep is not None and data_preprocessor is not None:
            for key in ('mean', 'std', 'bgr_to_rgb'):
                if t_prep.get(key) != data_preprocessor.get(key):
                    raise ValueError(
                        f'Teacher and student normalise images differently '
                        f'({key}: {t_prep.get(key)} vs '
                        f'{data_preprocessor.get(key)}); the teacher runs on '
                        "the student's batch, so they must agree.")
        # Its weights come from teacher_ckpt: a pretrained backbone named
        # in an MMPose config is neither needed nor fetched.
        teacher_cfg.get('backbone', {}).pop('init_cfg', None)
        teacher = MODELS.build(teacher_cfg)
        head = getattr(teacher, 'head', None)
        if not isinstance(teacher, TopdownPoseEstimator) or \
                not is_heatmap_head(head):
            raise TypeError(
                'The teacher must be a top-down heatmap model (a HeatmapHead '
                'or a subclass such as TokenPoseHead), got a '
                f'{type(teacher).__name__} with a {type(head).__name__}.')
        if self.head.num_joints != head.out_channels:
            raise ValueError(
                f'The student head predicts {self.head.num_joints} keypoints '
                f'and the teacher head {head.out_channels}: distillation '
                'needs the same keypoints.')
        self.teacher_frame = teacher_heatmap_frame(head,
                                                   self.neck.input_size)
        return teacher

    @property
    def teacher_has_tokens(self) -> bool:
        """Whether the teacher encodes tokens as the student does (a
        TokenPose teacher), which the token terms need."""
        return isinstance(getattr(self.teacher, 'neck', None),
                          TokenDistillingEncoder) and isinstance(
                              self.teacher.head, TokenPoseHead)

    def _check_token_terms(self, names):
        if not self.teacher_has_tokens:
            raise ValueError(
                f'distill_losses {sorted(names)} distil tokens, but the '
                f'teacher ({type(self.teacher.backbone).__name__} + '
                f'{type(self.teacher.head).__name__}) has no token encoder: '
                'keep only the heatmap terms (sim_heatmap, score), or use a '
                'TokenPose teacher.')
        s, t = self.neck, self.teacher.neck
        # Keypoint tokens pair one to one; visual tokens also need the same
        # patch grid on the same crop.
        attrs = ['num_keypoints', 'embed_dims']
        if 'vis_token' in names:
            attrs += ['grid_size', 'input_size']
        for attr in attrs:
            if getattr(s, attr) != getattr(t, attr):
                raise ValueError(
                    f'Student and teacher token encoders differ in {attr}: '
                    f'{getattr(s, attr)} vs {getattr(t, attr)}. Token '
                    'distillation needs the same keypoints and token size, '
                    'and vis_token also the same patch grid (input size / '
                    'stride / patch size): drop vis_token for a student on '
                    'another grid.')

    def _build_distill_losses(self, cfgs: dict) -> nn.ModuleDict:
        unknown = set(cfgs) - set(DISTILL_TERMS)
        if unknown:
            raise ValueError(f'Unknown distill_losses {sorted(unknown)}; '
                             f'valid terms are {DISTILL_TERMS}.')
        token_terms = set(cfgs) & set(TOKEN_TERMS)
        if token_terms:
            self._check_token_terms(token_terms)
        needs = dict(score=self.head.with_score,
                     sim_heatmap=self.head.with_sigma)
        t_size = tuple(self.teacher.head.decoder.heatmap_size)
        losses = nn.ModuleDict()
        for name, cfg in cfgs.items():
            if not needs.get(name, True):
                raise ValueError(
                    f"distill_losses['{name}'] needs a DistilPoseHead with "
                    f'with_{"score" if name == "score" else "sigma"}=True.')
            cfg = dict(cfg)
            if 'loss_weight' in cfg:
                check_loss_weight(cfg['loss_weight'],
                                  f'model.distill_losses.{name}.loss_weight')
            if name in ('sim_heatmap', 'score'):
                # Drawn and looked up in the teacher's heatmap frame unless
                # the config names one (None: the official score lookup).
                cfg.setdefault('coord_scale', self.teacher_frame)
            if name == 'sim_heatmap':
                cfg.setdefault('heatmap_size', t_size)
                if tuple(cfg['heatmap_size']) != t_size:
                    raise ValueError(
                        f'sim_heatmap heatmap_size {cfg["heatmap_size"]} '
                        f'differs from the teacher heatmaps {t_size}.')
            losses[name] = MODELS.build(cfg)
        return losses

    def init_weights(self):
        super().init_weights()
        if self.init_backbone_from_teacher:
            t_state = self.teacher.backbone.state_dict()
            s_state = self.backbone.state_dict()
            bad = [
                k for k, v in s_state.items()
                if k not in t_state or t_state[k].shape != v.shape
            ]
            if bad:
                raise ValueError(
                    'init_backbone_from_teacher: the teacher backbone lacks '
                    f'(or has other shapes for) {len(bad)} student keys, '
                    f'e.g. {bad[:5]}.')
            self.backbone.load_state_dict(
                {k: t_state[k] for k in s_state}, strict=True)

    # ------------------------------------------------- teacher bookkeeping
    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        teacher = self.__dict__.get('teacher')  # unset while __init__ runs
        if teacher is not None:
            teacher._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        teacher = self.__dict__.get('teacher')
        if teacher is not None:
            teacher.eval()
        return self

    def __repr__(self) -> str:
        text = super().__repr__()
        teacher = self.__dict__.get('teacher')
        if teacher is None:
            return text
        parts = ' + '.join(
            type(getattr(teacher, name)).__name__
            for name in ('backbone', 'neck', 'head')
            if getattr(teacher, name, None) is not None)
        count = sum(p.numel() for p in teacher.parameters()) / 1e6
        line = (f'  (teacher): {type(teacher).__name__}({parts}), '
                f'{count:.2f}M parameters, frozen, eval mode, '
                f'{self.teacher_precision}; outside the module tree: not in '
                'state_dict(), the optimizer or DDP\n')
        return text[:-1] + line + ')'

    # ----------------------------------------------------------- training
    @torch.no_grad()
    def teacher_forward(self, inputs: Tensor):
        """The teacher's (kpt_tokens, vis_tokens, heatmaps), float32; the
        tokens are None for a teacher without a token encoder.

        The teacher runs in ``teacher_precision`` on the inputs' device,
        whatever autocast surrounds the call (a mixed-precision step of
        ``AmpOptimWrapper``): 'fp32' with autocast off, 'bf16' under BF16
        autocast."""
        wrap = in_bf16 if self.teacher_precision == 'bf16' else in_fp32
        feats, heatmaps = wrap(self._teacher_outputs,
                               inputs.device.type)(inputs)
        if self.teacher_has_tokens:
            return feats[0], feats[1], heatmaps
        return None, None, heatmaps

    def _teacher_outputs(self, inputs: Tensor):
        feats = self.teacher.extract_feat(inputs)
        return feats, self.teacher.head.forward(feats)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        kpt_tokens, vis_tokens = self.extract_feat(inputs)
        outputs = self.head.forward((kpt_tokens, vis_tokens))
        losses = self.head.loss_by_outputs(outputs, data_samples)
        t_kpt, t_vis, t_heatmaps = self.teacher_forward(inputs)

        coords, score, sigma = self.head.split_outputs(outputs)
        _, weights = self.head.get_targets(data_samples)
        terms = self.distill_losses
        if 'vis_token' in terms:
            losses['loss_vis_token'] = terms['vis_token'](vis_tokens, t_vis)
        if 'kpt_token' in terms:
            losses['loss_kpt_token'] = terms['kpt_token'](kpt_tokens, t_kpt)
        if 'sim_heatmap' in terms:
            losses['loss_sim_heatmap'] = terms['sim_heatmap'](
                coords, sigma, t_heatmaps, weights)
        if 'score' in terms:
            losses['loss_score'] = terms['score'](score, coords, t_heatmaps,
                                                  weights)
        return losses
