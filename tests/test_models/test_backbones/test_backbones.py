import pytest
import torch
from conftest import build_from_config

from distilpose.models import HRNet3Stage, StemNet


def test_stemnet_shape_and_keys():
    net = StemNet()
    net.eval()  # MMPose backbones' train() returns None
    out = net(torch.randn(1, 3, 256, 192))
    assert isinstance(out, tuple) and out[0].shape == (1, 256, 64, 48)
    assert sum(p.numel() for p in net.parameters()) == 325056
    assert 'layer1.0.downsample.0.weight' in net.state_dict()


def test_hrnet3stage_matches_teacher_hrnet_stages_1_to_3():
    """Stages 1-3 of the 4-stage teacher HRNet load into HRNet3Stage, and
    its last stage-3 module fuses into the high-resolution branch only."""
    student = build_from_config(
        'distilpose/coco/'
        'distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py').backbone
    teacher = build_from_config(
        'tokenpose/coco/tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py'
    ).backbone
    s_keys, t_state = student.state_dict().keys(), teacher.state_dict()
    assert all(k in t_state for k in s_keys)
    assert not any(k.startswith(('stage4', 'transition3')) for k in s_keys)
    assert not any(k.startswith('stage3.3.fuse_layers.1') for k in s_keys)
    student.eval()
    out = student(torch.randn(1, 3, 256, 192))
    assert len(out) == 1 and out[0].shape == (1, 48, 64, 48)


def test_hrnet3stage_rejects_stage4():
    extra = dict(stage4=dict())
    with pytest.raises(ValueError, match='stage4'):
        HRNet3Stage(extra)


def test_hrnet3stage_frozen_stages():
    extra = build_from_config(
        'distilpose/coco/'
        'distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py'
    ).backbone.extra
    net = HRNet3Stage(extra, frozen_stages=2)
    frozen = {n.split('.')[0] for n, p in net.named_parameters()
              if not p.requires_grad}
    assert {'conv1', 'layer1', 'transition1', 'stage2',
            'transition2'} <= frozen
    assert 'stage3' not in frozen


def test_hrnet3stage_input_pool_runs_the_same_weights_at_half_size():
    """input_pool adds no parameter (a teacher HRNet still loads), and the
    pooled network is the plain one applied to the pooled crop."""
    extra = build_from_config(
        'distilpose/synthcoco/'
        'distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py'
    ).backbone.extra
    plain, pooled = HRNet3Stage(extra), HRNet3Stage(extra, input_pool=2)
    assert plain.state_dict().keys() == pooled.state_dict().keys()
    pooled.load_state_dict(plain.state_dict())
    plain.eval(), pooled.eval()
    crop = torch.randn(1, 3, 128, 96)
    out = pooled(crop)[0]
    assert out.shape == (1, 16, 16, 12)
    expected = plain(torch.nn.functional.avg_pool2d(crop, 2))[0]
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('bad', [0, -2, 1.5, '2'])
def test_hrnet3stage_rejects_a_bad_input_pool(bad):
    with pytest.raises(ValueError, match='input_pool'):
        HRNet3Stage(dict(), input_pool=bad)
