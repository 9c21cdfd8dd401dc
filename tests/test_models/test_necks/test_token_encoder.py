import pytest
import torch

from distilpose.models import TokenDistillingEncoder, sine_position_embedding


def test_sine_table_check_values():
    pe = sine_position_embedding(16, 16, 192)
    assert pe.shape == (1, 256, 192)
    expected = torch.tensor([0.382683, 0.923880, 0.318489, 0.947926])
    assert torch.allclose(pe[0, 0, :4], expected, atol=1e-6)
    assert torch.allclose(pe[0, 0, 96:100], expected, atol=1e-6)
    assert torch.allclose(pe[0, 17, :2], torch.tensor([0.707107] * 2),
                          atol=1e-6)


def test_shapes_and_grid():
    neck = TokenDistillingEncoder(in_channels=8, depth=2, num_keypoints=5)
    kpt, vis = neck((torch.randn(2, 8, 64, 48), ))
    assert kpt.shape == (2, 5, 192) and vis.shape == (2, 256, 192)
    assert neck.grid_size == (16, 16)


def test_positional_embedding_only_on_visual_tokens():
    neck = TokenDistillingEncoder(in_channels=8, depth=1, num_keypoints=3)
    assert torch.count_nonzero(neck.pos_embed[0, :3]) == 0
    assert torch.count_nonzero(neck.pos_embed[0, 3:]) > 0
    assert 'pos_embed' not in neck.state_dict()


def test_patch_embedding_is_the_official_linear():
    """Conv patch embedding == Linear over (row, col, channel) patches."""
    neck = TokenDistillingEncoder(in_channels=4, depth=1)
    feat = torch.randn(1, 4, 64, 48)
    w = neck.patch_embed.weight  # [D, C, 4, 3]
    linear_w = w.permute(0, 2, 3, 1).reshape(w.shape[0], -1)
    patches = feat.reshape(1, 4, 16, 4, 16, 3).permute(0, 2, 4, 3, 5, 1)
    patches = patches.reshape(1, 256, 4 * 4 * 3)
    expected = patches @ linear_w.T + neck.patch_embed.bias
    actual = neck.patch_embed(feat).flatten(2).transpose(1, 2)
    assert torch.allclose(actual, expected, atol=1e-5)


def test_non_divisible_feature_map_is_a_build_error():
    with pytest.raises(ValueError, match='does not divide into'):
        TokenDistillingEncoder(in_channels=8, input_size=(192, 256),
                               patch_size=(5, 4))
    with pytest.raises(ValueError, match='not a multiple of the feature'):
        TokenDistillingEncoder(in_channels=8, input_size=(190, 256))


def test_wrong_input_size_is_a_clear_error():
    neck = TokenDistillingEncoder(in_channels=8, depth=1)
    with pytest.raises(ValueError, match='input size of the data pipeline'):
        neck((torch.randn(1, 8, 32, 24), ))
    with pytest.raises(ValueError, match='input channels'):
        neck((torch.randn(1, 16, 64, 48), ))


def test_upsampling_puts_a_stride_8_map_on_the_stride_4_grid():
    """A half-resolution backbone's stride-8 map, upsampled x2, is cut into
    the grid a stride-4 map gives: the patch tokens of the upsampled map
    (and nothing else: same weights, same tokens)."""
    torch.manual_seed(0)
    kwargs = dict(in_channels=4, input_size=(96, 128), patch_size=(3, 4),
                  num_keypoints=3, embed_dims=16, depth=1, num_heads=2)
    half = TokenDistillingEncoder(feature_stride=8, upsample=2, **kwargs)
    full = TokenDistillingEncoder(feature_stride=4, **kwargs)
    full.load_state_dict(half.state_dict())
    assert half.grid_size == full.grid_size == (8, 8)
    feat = torch.randn(2, 4, 16, 12)
    up = torch.nn.functional.interpolate(feat, scale_factor=2,
                                         mode='bilinear', align_corners=False)
    for got, ref in zip(half((feat, )), full((up, ))):
        assert got.shape == ref.shape
        assert torch.allclose(got, ref, atol=1e-6)
    with pytest.raises(ValueError, match='input size of the data pipeline'):
        half((up, ))


@pytest.mark.parametrize('upsample', [0, 1.5, True])
def test_a_bad_upsample_factor_is_a_build_error(upsample):
    with pytest.raises(ValueError, match=r'upsample=.*positive integer'):
        TokenDistillingEncoder(in_channels=4, upsample=upsample)
