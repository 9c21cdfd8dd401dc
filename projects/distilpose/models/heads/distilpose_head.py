from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.models.heads.base_head import BaseHead
from mmpose.models.utils.tta import flip_coordinates
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptSampleList, Predictions
from torch import Tensor

from ..losses.loss_weight import check_loss_weights


@MODELS.register_module()
class DistilPoseHead(BaseHead):
    """DistilPose regression head: keypoint tokens -> (x, y, score, sx, sy).

    Each keypoint token goes through LayerNorm and one Linear layer. The
    output channels are, in the official order:

    - ``[0:2]`` (x, y) through a sigmoid, normalised by the input size
      (x / w, y / h), as encoded by MMPose's ``RegressionLabel``;
    - ``[2]`` a raw confidence score (no activation), learned from the
      teacher heatmap, used as the keypoint score at test time;
    - ``[3:5]`` (sigma_x, sigma_y) through a softplus, in heatmap pixels,
      used only by the simulated-heatmap loss.

    Without a teacher (``with_score=False, with_sigma=False``) it is the
    plain regression baseline with 2 outputs; ``loss`` always computes the
    coordinate loss only, the distillation terms live in
    :class:`DistilPoseDistiller`.

    Test-time flip (``test_cfg``): ``flip_test``; ``shift_coords`` (default
    False: x -> 1 - x as in the official code); ``flip_score_swap`` (default
    True: the flipped pass's scores are swapped between mirrored joints
    before averaging; False reproduces the official unswapped average).

    Args:
        in_channels (int): Token dimension.
        num_joints (int): Number of keypoints K.
        with_score (bool): Predict the confidence score channel.
        with_sigma (bool): Predict the two sigma channels.
        loss (dict): Coordinate loss config.
        decoder (dict, optional): ``RegressionLabel`` codec config.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 192,
                 num_joints: int = 17,
                 with_score: bool = True,
                 with_sigma: bool = True,
                 loss: ConfigType = dict(
                     type='SmoothL1Loss', use_target_weight=True),
                 decoder: Optional[ConfigType] = None,
                 init_cfg=[
                     dict(type='TruncNormal', layer='Linear', std=0.02,
                          bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
                 ]):
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.num_joints = num_joints
        self.with_score = with_score
        self.with_sigma = with_sigma
        self.out_channels = 2 + int(with_score) + 2 * int(with_sigma)
        self.loss_module = MODELS.build(loss)
        check_loss_weights(self.loss_module, 'model.head.loss')
        self.decoder = (
            KEYPOINT_CODECS.build(decoder) if decoder is not None else None)
        self.norm = nn.LayerNorm(in_channels)
        self.fc = nn.Linear(in_channels, self.out_channels)

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Keypoint tokens (``feats[0]``, [N, K, D]) -> [N, K, C] outputs.

        C is 5 (x, y, score, sigma_x, sigma_y) with score and sigma, 2 (x, y)
        without; activations are applied.
        """
        x = self.fc(self.norm(feats[0]))
        parts = [x[..., :2].sigmoid()]
        if self.with_score:
            parts.append(x[..., 2:3])
        if self.with_sigma:
            parts.append(F.softplus(x[..., -2:]))
        return torch.cat(parts, dim=-1)

    def split_outputs(self, outputs: Tensor):
        """[N, K, C] -> (coords [N, K, 2], score [N, K, 1] | None,
        sigma [N, K, 2] | None)."""
        coords = outputs[..., :2]
        score = outputs[..., 2:3] if self.with_score else None
        sigma = outputs[..., -2:] if self.with_sigma else None
        return coords, score, sigma

    def flip_back(self,
                  outputs: Tensor,
                  flip_indices: Sequence[int],
                  shift_coords: bool = False,
                  input_size: Sequence[int] = (192, 256),
                  flip_score_swap: bool = True) -> Tensor:
        """Map outputs of a horizontally flipped image back to the original.

        MMPose's ``flip_coordinates`` swaps mirrored joints (every channel)
        and maps x -> 1 - x (minus one input pixel if ``shift_coords``).
        With ``flip_score_swap=False`` the score channel keeps the flipped
        image's joint order, as the official code does.
        """
        if len(flip_indices) != outputs.shape[1]:
            raise ValueError(
                f'flip_indices has {len(flip_indices)} entries but the model '
                f'predicts {outputs.shape[1]} keypoints: the dataset '
                'metainfo does not fit this model.')
        # flip_coordinates writes x in place: give it a copy.
        flipped = flip_coordinates(
            outputs.clone(),
            flip_indices=list(flip_indices),
            shift_coords=shift_coords,
            input_size=input_size)
        if self.with_score and not flip_score_swap:
            flipped[..., 2] = outputs[..., 2]
        return flipped

    def predict(self,
                feats,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Predict keypoints in input-image pixels with their scores."""
        if test_cfg.get('flip_test', False):
            assert isinstance(feats, list) and len(feats) == 2
            metainfo = batch_data_samples[0].metainfo
            _feats, _feats_flip = feats
            outputs_flip = self.flip_back(
                self.forward(_feats_flip),
                flip_indices=metainfo['flip_indices'],
                shift_coords=test_cfg.get('shift_coords', False),
                input_size=metainfo['input_size'],
                flip_score_swap=test_cfg.get('flip_score_swap', True))
            outputs = (self.forward(_feats) + outputs_flip) * 0.5
        else:
            outputs = self.forward(feats)

        # float32 for decoding and numpy (which has no BF16), whatever
        # precision the network ran in (autocast, AMP validation).
        coords, score, _ = self.split_outputs(outputs.float())
        preds = self.decode(coords.unsqueeze(1))
        if score is not None:
            for pred, kpt_score in zip(preds, to_numpy(score)):
                pred.keypoint_scores = kpt_score[None, :, 0]
        return preds

    def get_targets(self, batch_data_samples: OptSampleList):
        """Stack normalised labels [N, K, 2] and weights [N, K]."""
        labels = torch.cat(
            [d.gt_instance_labels.keypoint_labels for d in batch_data_samples])
        weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])
        if labels.shape[1] != self.num_joints:
            raise ValueError(
                f'The data has {labels.shape[1]} keypoints per instance but '
                f'{type(self).__name__} predicts {self.num_joints}. Set '
                'num_joints / num_keypoints in the model config to the '
                "dataset's keypoint count.")
        return labels, weights

    def loss_by_outputs(self, outputs: Tensor,
                        batch_data_samples: OptSampleList) -> dict:
        """Coordinate loss and PCK accuracy from precomputed outputs.

        Under mixed precision (``AmpOptimWrapper``, BF16 or fp16 autocast)
        the outputs are half precision: the loss and the accuracy are
        computed on float32 (numpy has no BF16).
        """
        labels, weights = self.get_targets(batch_data_samples)
        coords = outputs[..., :2].float()
        losses = dict(
            loss_kpt=self.loss_module(coords, labels, weights.unsqueeze(-1)))
        _, avg_acc, _ = keypoint_pck_accuracy(
            pred=to_numpy(coords.detach()),
            gt=to_numpy(labels),
            mask=to_numpy(weights) > 0,
            thr=0.05,
            norm_factor=np.ones((coords.size(0), 2), dtype=np.float32))
        losses['acc_pose'] = torch.tensor(avg_acc, device=labels.device)
        return losses

    def loss(self,
             feats,
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Coordinate loss of the student alone (regression baseline)."""
        return self.loss_by_outputs(self.forward(feats), batch_data_samples)
