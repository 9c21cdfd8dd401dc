from .dist_sync_bn import DistSyncBatchNorm

__all__ = ['DistSyncBatchNorm']
