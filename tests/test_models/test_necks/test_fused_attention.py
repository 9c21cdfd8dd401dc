"""The token encoder's fused attention (``F.scaled_dot_product_attention``)
against the explicit softmax(QK^T)V: the same weights and keys, the same
outputs and gradients, in fp32 and under BF16 autocast; on a GPU too."""
import copy

import pytest
import torch
from device_utils import needs_cuda

from distilpose.models import TokenDistillingEncoder


def encoders(device='cpu'):
    """(fused, explicit): one encoder and its copy with fused_attn off."""
    fused = TokenDistillingEncoder(in_channels=8, depth=2, num_keypoints=5,
                                   embed_dims=64, num_heads=4)
    fused.init_weights()
    explicit = copy.deepcopy(fused)
    for layer in explicit.layers:
        layer.attn.fused_attn = False
    return fused.to(device), explicit.to(device)


def test_the_switch_keeps_the_weights_one_to_one():
    fused, _ = encoders()
    explicit = TokenDistillingEncoder(in_channels=8, depth=2, num_keypoints=5,
                                      embed_dims=64, num_heads=4,
                                      fused_attn=False)
    assert all(layer.attn.fused_attn for layer in fused.layers)
    assert not any(layer.attn.fused_attn for layer in explicit.layers)
    a, b = fused.state_dict(), explicit.state_dict()
    assert a.keys() == b.keys()
    assert all(a[k].shape == b[k].shape for k in a)
    explicit.load_state_dict(a, strict=True)


def check(device, autocast=None, atol=1e-5):
    fused, explicit = encoders(device)
    x = torch.randn(2, 8, 64, 48, device=device)
    outs, grads = [], []
    for model in (fused, explicit):
        if autocast is None:
            out = model((x, ))
        else:
            with autocast:
                out = model((x, ))
        sum(o.float().square().sum() for o in out).backward()
        outs.append(out)
        grads.append([p.grad for p in model.parameters()])
    for a, b in zip(*outs):
        assert a.dtype == b.dtype
        assert torch.allclose(a.float(), b.float(), atol=atol, rtol=atol)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=atol * 10, rtol=atol * 10)


def test_fused_and_explicit_attention_agree_in_fp32():
    check('cpu')


def test_fused_and_explicit_attention_agree_under_bf16_autocast():
    check('cpu', torch.autocast('cpu', dtype=torch.bfloat16), atol=5e-2)


@needs_cuda
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_fused_and_explicit_attention_agree_on_a_gpu(dtype):
    check('cuda', atol=1e-4)
    check('cuda', torch.autocast('cuda', dtype=dtype), atol=5e-2)
