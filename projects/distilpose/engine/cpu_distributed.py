"""Let MMEngine's ``--launcher pytorch`` run on machines without CUDA.

MMEngine 0.10 assumes GPUs when launched by ``torchrun`` (``mim train
--launcher pytorch``, ``tools/dist_train.sh``): it calls
``torch.cuda.set_device`` ("Found no NVIDIA driver"), the configs ask for
the ``nccl`` backend, and the runner wraps the model in DDP with
``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU model. On a
machine without CUDA, importing ``distilpose`` (:func:`enable`) makes the
launcher skip the device selection and use ``gloo`` instead of ``nccl``,
and gives DDP ``device_ids=None`` for CPU models. Nothing changes where
CUDA is available.
"""
import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel

_INIT_DIST_PYTORCH = dist_utils._init_dist_pytorch
_DDP_INIT = MMDistributedDataParallel.__init__


def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
    """MMEngine's torchrun set-up without ``torch.cuda.set_device``."""
    if init_backend != 'torch':
        return _INIT_DIST_PYTORCH(backend, init_backend, **kwargs)
    if backend == 'nccl':
        print_log('No CUDA: distributed training uses the gloo backend '
                  'instead of nccl.', logger='current')
        backend = 'gloo'
    torch_dist.init_process_group(backend=backend, **kwargs)


def _ddp_init(self, module, *args, **kwargs) -> None:
    """``MMDistributedDataParallel`` with ``device_ids=None`` for a CPU
    module, as DDP requires."""
    if kwargs.get('device_ids') and all(
            p.device.type == 'cpu' for p in module.parameters()):
        kwargs['device_ids'] = None
    _DDP_INIT(self, module, *args, **kwargs)


def enable() -> None:
    """Install the CPU fallbacks, only on machines without CUDA."""
    if torch.cuda.is_available():
        return
    dist_utils._init_dist_pytorch = _init_dist_pytorch
    MMDistributedDataParallel.__init__ = _ddp_init


enable()
