"""DistilPose for MMPose 1.x.

Importing this package registers every DistilPose component (backbones, the
token-distilling encoder, heads, losses, the distiller and the training hooks)
into MMPose's registries, so configs only need::

    custom_imports = dict(imports=['distilpose'], allow_failed_imports=False)
"""
from . import checkpoint  # noqa: F401  (safe resume on torch>=2.6)
from . import engine, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
