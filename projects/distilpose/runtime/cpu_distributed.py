"""MMEngine's ``--launcher pytorch`` on machines without CUDA.

MMEngine 0.10 assumes GPUs when launched by ``torchrun`` (``mim train
--launcher pytorch``, ``tools/dist_train.sh``): it calls
``torch.cuda.set_device`` ("Found no NVIDIA driver"), the configs ask for
the ``nccl`` backend, and the runner wraps the model in DDP with
``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU model. The two
functions below are the CPU versions;
:mod:`distilpose.runtime.mmengine_patches` installs them on machines
without CUDA.
"""
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel

MMENGINE_INIT_DIST_PYTORCH = dist_utils._init_dist_pytorch
MMENGINE_DDP_INIT = MMDistributedDataParallel.__init__


def init_dist_pytorch_on_cpu(backend, init_backend='torch', **kwargs):
    """MMEngine's torchrun set-up without ``torch.cuda.set_device``, and
    ``gloo`` for ``nccl``."""
    if init_backend != 'torch':
        return MMENGINE_INIT_DIST_PYTORCH(backend, init_backend, **kwargs)
    if backend == 'nccl':
        print_log('No CUDA: distributed training uses the gloo backend '
                  'instead of nccl.', logger='current')
        backend = 'gloo'
    torch_dist.init_process_group(backend=backend, **kwargs)


def ddp_init_for_cpu_modules(self, module, *args, **kwargs) -> None:
    """``MMDistributedDataParallel.__init__`` with ``device_ids=None`` for
    a CPU module, as DDP requires."""
    if kwargs.get('device_ids') and all(
            p.device.type == 'cpu' for p in module.parameters()):
        kwargs['device_ids'] = None
    MMENGINE_DDP_INIT(self, module, *args, **kwargs)
