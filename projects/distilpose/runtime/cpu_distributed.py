"""MMEngine's ``--launcher pytorch`` on machines without CUDA.

MMEngine 0.10 assumes GPUs when launched by ``torchrun`` (``mim train
--launcher pytorch``, ``tools/dist_train.sh``): it calls
``torch.cuda.set_device`` ("Found no NVIDIA driver") whatever the config
says, and the configs ask for the ``nccl`` backend. The function below is
the CPU version; :mod:`distilpose.runtime.mmengine_patches` installs it on
machines without CUDA. (DDP's ``device_ids``, which it refuses for a CPU
model, need no patch: ``configs/_base_/default_runtime.py`` sets
``model_wrapper_cfg`` with ``device_ids=None``.)
"""
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.logging import print_log

MMENGINE_INIT_DIST_PYTORCH = dist_utils._init_dist_pytorch


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
