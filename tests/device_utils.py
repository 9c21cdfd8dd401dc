"""What the tests that need a GPU share: the ``needs_cuda`` mark, and a
tensor that says it lives on a GPU, for checking on a CPU that code picks
the autocast device from its inputs."""
import contextlib

import pytest
import torch


def needs_cuda(test):
    """Mark ``test`` as a GPU test (``-m cuda`` selects them), skipped
    where torch sees no CUDA device."""
    return pytest.mark.cuda(
        pytest.mark.skipif(not torch.cuda.is_available(),
                           reason='needs a CUDA GPU')(test))


class FakeCudaTensor(torch.Tensor):
    """A CPU tensor whose ``.device`` says ``cuda``: what a device lookup
    sees of a GPU tensor, on a machine without one."""

    @property
    def device(self):
        return torch.device('cuda')


class AutocastSpy:
    """Stands in for ``torch.autocast``: records (device_type, dtype,
    enabled) of each call; runs the real autocast (``real=True``) or
    nothing (for devices this machine does not have)."""

    def __init__(self, real: bool = True):
        self.calls = []
        self.real = real
        self.autocast = torch.autocast

    def __call__(self, device_type, dtype=None, enabled=True, **kwargs):
        self.calls.append((device_type, dtype, enabled))
        if not self.real:
            return contextlib.nullcontext()
        return self.autocast(device_type, dtype=dtype, enabled=enabled,
                             **kwargs)
