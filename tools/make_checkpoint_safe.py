"""Convert a checkpoint into one that loads with weights_only=True.

    python tools/make_checkpoint_safe.py SRC DST [--allow-code-execution]

The project loads every checkpoint with ``torch.load(weights_only=True)``
and refuses files that carry other pickled objects, because unpickling
them can run code. This command reads SRC with torch's restricted
unpickler too, allowing the types that real checkpoints hold beyond that
(MMEngine's training state, numpy values also as numpy 1.x pickled them,
a training script's ``argparse.Namespace``, the containers of
``collections`` and builtins: ``distilpose.checkpoint.conversion_globals``),
none of which runs code of the file. Anything else is refused by name and
nothing is written.

``--allow-code-execution`` unpickles SRC fully instead: that runs any code
the file carries, so only use it for a file whose origin you trust.

Either way it keeps tensors, numpy values, numbers, strings, containers
and MMEngine's ``HistoryBuffer``, drops anything else (each dropped entry
is printed), writes DST atomically and checks that DST loads with the
safe loader.
"""
import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# HistoryBuffer pickles safely with the patches:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose.checkpoint import (CheckpointError, conversion_globals,
                                   refused_globals, safe_torch_load,
                                   save_checkpoint_atomically,
                                   unpickling_problem)

_PLAIN = (str, bytes, int, float, bool, complex, type(None), torch.Tensor,
          np.ndarray, np.generic, np.dtype, HistoryBuffer, set)
_DROP = object()
FLAG = '--allow-code-execution'


def keep_safe_parts(obj, where: str, dropped: list):
    """``obj`` without the objects that the safe unpickler refuses."""
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, dict):
        kept = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool, tuple)):
                dropped.append(f'{where}[{key!r}] (key {type(key)})')
                continue
            part = keep_safe_parts(value, f'{where}[{key!r}]', dropped)
            if part is not _DROP:
                kept[key] = part
        if isinstance(kept, OrderedDict) and hasattr(obj, '_metadata'):
            # state dicts' version information
            kept._metadata = obj._metadata
        return kept
    if isinstance(obj, (list, tuple)):
        parts = [keep_safe_parts(v, f'{where}[{i}]', dropped)
                 for i, v in enumerate(obj)]
        parts = [p for p in parts if p is not _DROP]
        return parts if isinstance(obj, list) else tuple(parts)
    dropped.append(f'{where} ({type(obj).__module__}.'
                   f'{type(obj).__qualname__})')
    return _DROP


def read_without_code(src: str):
    """SRC unpickled by torch's restricted unpickler allowing
    :func:`~distilpose.checkpoint.conversion_globals`; exits naming what
    it refuses."""
    with torch.serialization.safe_globals(conversion_globals()):
        try:
            return torch.load(src, map_location='cpu', weights_only=True)
        except Exception as err:  # noqa: BLE001  (torch raises many kinds)
            names = refused_globals(src, err)
            if not names:
                sys.exit(f'error: cannot convert {src}: '
                         f'{unpickling_problem(src, err)}')
    what = 'a type' if len(names) == 1 else 'types'
    sys.exit(
        f'error: {src} pickles {", ".join(names)}: not {what} that '
        'checkpoints hold (tensors, numpy values, containers, MMEngine\'s '
        'training state), so unpickling could run code named by the '
        'file. Nothing was converted or run. Only if you trust this file '
        f'and where it came from, run again with {FLAG}, which unpickles '
        'it fully and runs any code it carries.')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='the checkpoint to convert')
    parser.add_argument('dst', help='where to write the safe copy')
    parser.add_argument(
        FLAG, action='store_true',
        help='unpickle SRC fully, running any code it carries (only for a '
        'file whose origin you trust)')
    args = parser.parse_args(argv)
    if args.allow_code_execution:
        print(f'Unpickling {args.src} without restrictions ({FLAG}): this '
              'runs any code it carries. Only do this for a file you trust.')
        checkpoint = torch.load(args.src, map_location='cpu',
                                weights_only=False)
    else:
        checkpoint = read_without_code(args.src)
    dropped = []
    safe = keep_safe_parts(checkpoint, 'checkpoint', dropped)
    for entry in dropped:
        print(f'dropped {entry}')
    save_checkpoint_atomically(safe, args.dst)
    try:
        safe_torch_load(args.dst, route='make_checkpoint_safe check')
    except CheckpointError as err:
        os.remove(args.dst)
        sys.exit(f'error: the copy still does not load safely, so it was '
                 f'removed: {err}')
    print(f'wrote {args.dst}: loads with weights_only=True '
          f'({len(dropped)} entries dropped)')


if __name__ == '__main__':
    main()
