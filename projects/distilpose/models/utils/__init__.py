from .dist_sync_bn import DistSyncBatchNorm
from .quiet_init import init_weights_quietly

__all__ = ['DistSyncBatchNorm', 'init_weights_quietly']
