"""Data-loader worker seeding that follows
:class:`~distilpose.runtime.hooks.EpochReseedHook`'s per-epoch seeds."""
import random

import numpy as np
import torch
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def seed_worker_from_torch(worker_id: int, **kwargs) -> None:
    """Data-loader ``worker_init_fn`` seeding numpy and ``random`` from the
    seed torch gives the worker (``base_seed + worker_id``, drawn from the
    main process's torch RNG when an epoch's iterator is built).

    MMEngine's default seeds the workers identically every epoch, so with
    non-persistent workers each epoch repeats the same sequence of random
    draws (on differently shuffled samples); with this function the draws
    differ per epoch and still follow :class:`EpochReseedHook`'s seeds.
    Select it with ``train_dataloader.worker_init_fn=dict(
    type='seed_worker_from_torch')``. Extra config arguments are ignored.
    """
    seed = torch.initial_seed()
    random.seed(seed)
    np.random.seed(seed % 2**32)
