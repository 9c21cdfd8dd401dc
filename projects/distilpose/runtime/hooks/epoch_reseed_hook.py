"""Randomness that a resumed run reproduces exactly.

MMEngine checkpoints hold the weights, optimizer, schedulers and seed but
no random-number-generator state, so a run resumed at epoch e draws other
augmentations than the uninterrupted run did (the RNGs restart from the
seed, and building data-loader iterators, validation included, consumes
the main process's torch RNG). :class:`EpochReseedHook` makes the RNG state
at the start of every training epoch a function of (seed, epoch, rank)
only, so both runs continue from the same state.
:func:`~distilpose.runtime.randomness.seed_worker_from_torch` extends
that to data-loader workers.

Exactness needs deterministic settings (``randomness=dict(seed=...,
deterministic=True)``) and ``num_workers=0`` or
``persistent_workers=False``: persistent workers keep their RNG across
epochs, which a restarted process cannot reproduce.
"""
import numpy as np
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed
from mmpose.registry import HOOKS


def reseed(*entropy: int) -> None:
    """Seed python ``random``, numpy and torch (CPU and CUDA) through
    MMEngine's ``set_random_seed``, from a well-mixed function of
    ``entropy``: neighbouring (seed, epoch, rank) triples get unrelated
    seeds, which a plain sum would not give."""
    state = np.random.SeedSequence([int(e) for e in entropy])
    set_random_seed(int(state.generate_state(1)[0]))


@HOOKS.register_module()
class EpochReseedHook(Hook):
    """Reseed all RNGs from (seed, epoch, rank) before every training epoch.

    The seed is the runner's (``randomness.seed``, or the random one
    MMEngine draws and stores in checkpoints), so an interrupted run that
    is resumed with ``--resume`` trains exactly as the uninterrupted one.
    Enabled by default through ``custom_hooks`` in
    ``configs/_base_/default_runtime.py``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if runner.deterministic and loader.num_workers and getattr(
                loader, 'persistent_workers', False):
            runner.logger.warning(
                'persistent_workers=True: the data workers keep their '
                'random state across epochs, so a resumed run will not '
                'augment exactly as an uninterrupted one. Set '
                'train_dataloader.persistent_workers=False for exact '
                'resumption.')

    def before_train_epoch(self, runner) -> None:
        reseed(runner.seed, runner.epoch, get_rank())
