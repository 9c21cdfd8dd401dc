"""The timed inference calls, on PyTorch eager and ONNX Runtime, and the
machine's FLOP bound they are compared with."""
from typing import Callable

import onnxruntime as ort
import torch

from distilpose.deploy import INPUT_NAME

from .timing import QuietTimer


def eager_runner(net: torch.nn.Module, x: torch.Tensor) -> Callable:
    """One forward pass of ``net`` under ``inference_mode``."""

    def run():
        with torch.inference_mode():
            return net(x)

    return run


def bf16_runner(net: torch.nn.Module, x: torch.Tensor) -> Callable:
    """:func:`eager_runner` under CPU BF16 autocast (what
    ``model.test_cfg.precision='bf16'`` runs)."""

    def run():
        with torch.inference_mode(), torch.autocast('cpu',
                                                    dtype=torch.bfloat16):
            return net(x)

    return run


def ort_runner(session: ort.InferenceSession, x: torch.Tensor) -> Callable:
    """One run of an exported network on ONNX Runtime."""
    feed = {INPUT_NAME: x.numpy()}
    return lambda: session.run(None, feed)


def matmul_peak(timer: QuietTimer, n: int = 4096, reps: int = 3) -> float:
    """Best SGEMM GFLOP/s (n x n x n, torch's current threads): the FLOP
    bound of this machine."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / min(timer(lambda: a @ b, reps)) / 1e9
