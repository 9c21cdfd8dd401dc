"""Export the token encoder's attention as ONNX Runtime's fused op.

The plain export writes each attention block as some forty ONNX nodes
(the qkv MatMul, reshapes, transposes, the two attention MatMuls, softmax
and the scale arithmetic of ``scaled_dot_product_attention``). Inside
:func:`fused_attention` the same blocks export as one
``com.microsoft::Attention`` node each (ONNX Runtime's contrib op: qkv
projection, scaled dot-product and softmax in one kernel), which is what
lets :func:`~distilpose.deploy.quantize_int8` quantize the qkv
projection (``QAttention``) and is a little faster in float too. A file
with these nodes runs on ONNX Runtime only, so the plain export stays the
default.
"""
import contextlib
import types
from typing import Iterator

import torch
from torch import Tensor, nn

from ..models.necks.token_encoder import Attention

#: The ONNX op each attention block becomes.
FUSED_OP = 'com.microsoft::Attention'


class _FusedAttention(torch.autograd.Function):
    """Self-attention with packed qkv weights [C, 3C] (q, k, v blocks,
    heads in order within each, as ``Attention.qkv`` lays them out); its
    ONNX form is the contrib op, whose default scale is
    ``head_dims ** -0.5`` as ``Attention``'s."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor,
                num_heads: int) -> Tensor:
        n, t, c = x.shape
        qkv = (x @ weight + bias).reshape(n, t, 3, num_heads, c // num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return out.transpose(1, 2).reshape(n, t, c)

    @staticmethod
    def symbolic(g, x, weight, bias, num_heads: int):
        out = g.op(FUSED_OP, x, weight, bias, num_heads_i=num_heads)
        out.setType(x.type())
        return out


def _fused_forward(self: Attention, x: Tensor) -> Tensor:
    weight = self.qkv.weight.t()
    bias = self.qkv.bias
    if bias is None:  # the contrib op's quantized form needs a bias
        bias = weight.new_zeros(weight.shape[1])
    return self.proj(_FusedAttention.apply(x, weight, bias, self.num_heads))


@contextlib.contextmanager
def fused_attention(model: nn.Module) -> Iterator[int]:
    """Within the block, every :class:`Attention` of ``model`` runs (and
    exports) as the fused op; yields how many there are. The modules are
    restored on exit, whatever happens inside."""
    blocks = [m for m in model.modules() if isinstance(m, Attention)]
    for block in blocks:
        block.forward = types.MethodType(_fused_forward, block)
    try:
        yield len(blocks)
    finally:
        for block in blocks:
            del block.forward
