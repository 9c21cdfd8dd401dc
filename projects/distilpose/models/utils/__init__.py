from .bf16 import float32_outputs, in_bf16, native_cpu_bf16
from .dist_sync_bn import DistSyncBatchNorm
from .precision import set_inference_precision
from .quiet_init import init_weights_quietly

__all__ = [
    'DistSyncBatchNorm', 'float32_outputs', 'in_bf16', 'init_weights_quietly',
    'native_cpu_bf16', 'set_inference_precision'
]
