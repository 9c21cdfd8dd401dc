"""DistilPose for MMPose 1.x.

Importing this package registers every DistilPose component (backbones,
the token-distilling encoder, heads, losses, the distiller and the
runtime hooks) into MMPose's registries and does nothing else. The fixes
to MMEngine (safe checkpoint loading on every route, atomic saving, CPU
torchrun) are opt-in, in :mod:`distilpose.runtime.mmengine_patches`; the
project's configs import both::

    custom_imports = dict(
        imports=['distilpose', 'distilpose.runtime.mmengine_patches'],
        allow_failed_imports=False)
"""
from . import models, runtime  # noqa: F401
from .version import __version__

__all__ = ['__version__']
