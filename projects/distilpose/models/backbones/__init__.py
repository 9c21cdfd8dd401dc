from .hrnet_3stage import HRNet3Stage
from .stemnet import StemNet

__all__ = ['StemNet', 'HRNet3Stage']
