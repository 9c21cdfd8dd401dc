"""Convert a checkpoint you trust into one that loads with weights_only=True.

    python tools/make_checkpoint_safe.py SRC DST

The project loads every checkpoint with ``torch.load(weights_only=True)``
and refuses files that carry other pickled objects, because unpickling
them can run code. This command is the one explicit exception: it
unpickles SRC fully (only run it on a file whose origin you trust), keeps
tensors, numpy values, numbers, strings, containers and MMEngine's
``HistoryBuffer``, drops anything else (each dropped entry is printed),
writes DST atomically and checks that DST loads with the safe loader.
"""
import argparse
import sys
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# HistoryBuffer pickles safely with the patches:
import distilpose.runtime.mmengine_patches  # noqa: F401
from distilpose.checkpoint import safe_torch_load, save_checkpoint_atomically

_PLAIN = (str, bytes, int, float, bool, complex, type(None), torch.Tensor,
          np.ndarray, np.generic, np.dtype, HistoryBuffer)
_DROP = object()


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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='a checkpoint whose origin you trust')
    parser.add_argument('dst', help='where to write the safe copy')
    args = parser.parse_args(argv)
    print(f'Unpickling {args.src} without weights_only: this runs any code '
          'it carries. Only do this for a file you trust.')
    checkpoint = torch.load(args.src, map_location='cpu', weights_only=False)
    dropped = []
    safe = keep_safe_parts(checkpoint, 'checkpoint', dropped)
    for entry in dropped:
        print(f'dropped {entry}')
    save_checkpoint_atomically(safe, args.dst)
    try:
        safe_torch_load(args.dst, route='make_checkpoint_safe check')
    except ValueError as err:
        sys.exit(f'error: the copy still does not load safely: {err}')
    print(f'wrote {args.dst}: loads with weights_only=True '
          f'({len(dropped)} entries dropped)')


if __name__ == '__main__':
    main()
