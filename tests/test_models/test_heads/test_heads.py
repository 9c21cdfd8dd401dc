import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from distilpose.models import DistilPoseHead, TokenPoseHead

FLIP = [0, 2, 1, 4, 3]


def samples(n, k=5, input_size=(192, 256)):
    out = []
    for _ in range(n):
        s = PoseDataSample(metainfo=dict(flip_indices=FLIP,
                                         input_size=input_size))
        s.gt_instance_labels = InstanceData(
            keypoint_labels=torch.rand(1, k, 2),
            keypoint_weights=torch.ones(1, k))
        out.append(s)
    return out


def make_head(**kw):
    return DistilPoseHead(
        num_joints=5,
        decoder=dict(type='RegressionLabel', input_size=(192, 256)),
        **kw)


def test_output_channels_and_activations():
    head = make_head()
    out = head((torch.randn(2, 5, 192) * 10, None))
    assert out.shape == (2, 5, 5)
    assert (out[..., :2] > 0).all() and (out[..., :2] < 1).all()
    assert (out[..., 3:] > 0).all()
    assert make_head(with_score=False, with_sigma=False)(
        (torch.randn(2, 5, 192), None)).shape == (2, 5, 2)


def test_predict_uses_score_channel_and_input_pixels():
    head = make_head().eval()
    feats = (torch.randn(2, 5, 192), None)
    out = head(feats)
    preds = head.predict(feats, samples(2), test_cfg=dict(flip_test=False))
    np.testing.assert_allclose(preds[0].keypoints[0],
                               out[0, :, :2].detach().numpy() * [192, 256],
                               rtol=1e-5)
    np.testing.assert_allclose(preds[1].keypoint_scores[0],
                               out[1, :, 2].detach().numpy(), rtol=1e-5)


def test_flip_back_swaps_pairs_and_scores():
    head = make_head()
    out = torch.rand(1, 5, 5)
    back = head.flip_back(out, FLIP)
    assert torch.allclose(back[0, 1, 0], 1 - out[0, 2, 0])
    assert torch.allclose(back[0, 1, 2], out[0, 2, 2])
    official = head.flip_back(out, FLIP, flip_score_swap=False)
    assert torch.allclose(official[0, 1, 2], out[0, 1, 2])
    shifted = head.flip_back(out, FLIP, shift_coords=True)
    assert torch.allclose(shifted[..., 0], back[..., 0] - 1 / 192)
    with pytest.raises(ValueError, match='flip_indices has 3 entries'):
        head.flip_back(out, [0, 2, 1])


def test_regression_loss_and_keypoint_count_check():
    head = make_head(with_score=False, with_sigma=False)
    losses = head.loss((torch.randn(2, 5, 192), None), samples(2))
    assert set(losses) == {'loss_kpt', 'acc_pose'}
    assert torch.isfinite(losses['loss_kpt'])
    with pytest.raises(ValueError, match='data has 7 keypoints'):
        head.loss((torch.randn(2, 5, 192), None), samples(2, k=7))


def test_tokenpose_head_shapes_and_hidden_rule():
    head = TokenPoseHead(out_channels=5, heatmap_size=(48, 64))
    assert head((torch.randn(2, 5, 192), None)).shape == (2, 5, 64, 48)
    assert head.mlp[1].out_features == 384  # 48 * 64 / 8
    small = TokenPoseHead(out_channels=5, heatmap_size=(12, 16))
    assert len(small.mlp) == 2  # 192 > 0.5 * 24: LN + Linear only


@pytest.mark.parametrize('hidden_dims', [0, 64])
def test_tokenpose_head_zero_init_last(hidden_dims):
    kw = dict(in_channels=32, out_channels=5, heatmap_size=(8, 16),
              hidden_dims=hidden_dims)
    tokens = (torch.randn(2, 5, 32), None)
    default = TokenPoseHead(**kw)
    default.init_weights()
    assert default(tokens).abs().max() > 0
    head = TokenPoseHead(zero_init_last=True, **kw)
    head.init_weights()
    assert head.mlp[-1].weight.abs().max() == 0
    assert head(tokens).abs().max() == 0
    if hidden_dims:  # only the last layer starts at zero
        assert head.mlp[1].weight.std() > 0.01
