from .distilpose_head import DistilPoseHead
from .tokenpose_head import TokenPoseHead

__all__ = ['DistilPoseHead', 'TokenPoseHead']
