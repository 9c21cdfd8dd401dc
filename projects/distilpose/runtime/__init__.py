"""The runtime layer: everything that hooks into MMEngine's runner or
changes its behaviour. The method (:mod:`distilpose.models`) never imports
it.

- :mod:`.hooks`: the reliability hooks, registered on import and enabled
  by ``configs/_base_/default_runtime.py``;
- :mod:`.mmengine_patches`: fixes to MMEngine (safe checkpoint loading on
  every route, atomic checkpoint writes, CPU ``torchrun``), applied when a
  config imports it (``custom_imports``); importing this package alone
  changes nothing;
- :mod:`.resume`, :mod:`.randomness`, :mod:`.cpu_distributed`: what the
  hooks and patches use.
"""
from . import hooks, randomness  # noqa: F401
