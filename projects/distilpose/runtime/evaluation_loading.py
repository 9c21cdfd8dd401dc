"""Complete weights where a model is evaluated or run.

Training may start from part of a checkpoint (``load_from`` of a model
with another head, a backbone from a classifier): MMEngine loads what
matches and warns about the rest, and the key-coverage check of
:mod:`distilpose.checkpoint` only refuses files of another model. Where
the model is scored or used as it is (``Runner.test`` / ``Runner.val``,
that is ``mim test`` and ``tools/test.py``; ``init_model``;
``MMPoseInferencer``), a key left at its random initialisation would give
wrong keypoints and a meaningless AP with only a warning in the log, so
there every key of the model must come from the file, with its shape.
Keys of the file that the model lacks are left to MMEngine's warning (a
checkpoint may carry more than the inference model needs).
"""
import functools
from contextlib import contextmanager
from contextvars import ContextVar

from torch import nn

from ..checkpoint import CheckpointError

_EVALUATING = ContextVar('distilpose_evaluation_loading', default=False)


@contextmanager
def evaluation_loading():
    """Within it, weights loaded into a model must cover all its keys
    (:func:`check_complete`)."""
    token = _EVALUATING.set(True)
    try:
        yield
    finally:
        _EVALUATING.reset(token)


def evaluating() -> bool:
    return _EVALUATING.get()


def loads_for_evaluation(fn):
    """``fn`` run within :func:`evaluation_loading`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with evaluation_loading():
            return fn(*args, **kwargs)

    return wrapper


def check_complete(model: nn.Module, state: dict, source: str) -> None:
    """Refuse ``state`` if any key of ``model`` is missing from it or has
    another shape there.

    Raises:
        CheckpointError: naming the keys and what to do.
    """
    own = {k: v for k, v in model.state_dict().items()
           if not k.endswith('num_batches_tracked')}
    missing = [k for k in own if k not in state]
    mis_shaped = [
        f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
        for k in own if k in state
        and getattr(state[k], 'shape', None) != own[k].shape
    ]
    if not (missing or mis_shaped):
        return
    lines = [f'{source} leaves part of {type(model).__name__} at its random '
             'initialisation, so its results would be meaningless:']
    if missing:
        lines.append(f'  missing ({len(missing)}): {", ".join(missing[:6])}'
                     + (' ...' if len(missing) > 6 else ''))
    if mis_shaped:
        lines.append(f'  other shapes, file vs model ({len(mis_shaped)}): '
                     f'{", ".join(mis_shaped[:4])}'
                     + (' ...' if len(mis_shaped) > 4 else ''))
    lines.append('  Test and run a checkpoint with the config it was '
                 'trained with (e.g. a regression baseline with its own '
                 'config, not its student\'s).')
    raise CheckpointError('\n'.join(lines))
