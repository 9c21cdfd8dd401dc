"""Process entry points for tests/test_engine/test_distributed.py.

Spawned workers re-import the module of their function; this one imports
only torch at the top, and the worker loads the DistSyncBN module file on
its own, not through the ``distilpose`` package (whose import pulls in all
of MMPose), so that the workers start in seconds.
"""
import importlib.util
import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DIST_SYNC_BN = osp.join(ROOT, 'projects', 'distilpose', 'models', 'utils',
                        'dist_sync_bn.py')


def _dist_sync_bn_class():
    spec = importlib.util.spec_from_file_location('dist_sync_bn',
                                                  DIST_SYNC_BN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DistSyncBatchNorm


def dist_sync_bn_worker(rank: int, world: int, init_file: str,
                        out_dir: str) -> None:
    """One rank of the DistSyncBN test: its share of a fixed batch through
    DistSyncBN (train, then eval); saves outputs, gradients and buffers."""
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    torch.manual_seed(0)
    x = torch.randn(8, 3, 5, 4, dtype=torch.float64)
    w = torch.randn_like(x)
    part = slice(rank * 8 // world, (rank + 1) * 8 // world)
    bn = _dist_sync_bn_class()(3).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    x_part = x[part].clone().requires_grad_()
    out = bn(x_part)
    (out * w[part]).sum().backward()
    bn.eval()
    torch.save(dict(out=out.detach(), x_grad=x_part.grad,
                    weight_grad=bn.weight.grad, bias_grad=bn.bias.grad,
                    state=bn.state_dict(), eval_out=bn(x[part]).detach()),
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()
