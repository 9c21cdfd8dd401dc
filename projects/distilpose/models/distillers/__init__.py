from .distilpose_distiller import DistilPoseDistiller

__all__ = ['DistilPoseDistiller']
