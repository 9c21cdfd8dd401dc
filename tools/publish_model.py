"""Turn a training checkpoint into a shippable model file.

    python tools/publish_model.py IN.pth OUT.pth

Keeps the weights (``state_dict``) and plain-typed metadata, drops the
optimizer, scheduler and message-hub state, so the file is a fraction of
the size and loads with ``torch.load(weights_only=True)`` without any
allow-listed globals. Writes atomically and prints the sha256.

Not MMPose's ``tools/misc/publish_model.py``: that one keeps ``meta`` as
it is (numpy arrays that a ``weights_only`` load must allow-list), writes
torch's legacy non-zip format (whose truncation the loaders cannot see)
and renames the file to ``name-<sha256[:8]>.pth``.
"""
import argparse
import os.path as osp

from distilpose.checkpoint import safe_torch_load, save_checkpoint_atomically
from distilpose.fileio import sha256sum

#: Metadata entries kept; all are plain strings or numbers.
KEPT_META = ('epoch', 'iter', 'seed', 'mmengine_version', 'time')


def publish(src: str, dst: str) -> str:
    """Write the weights of ``src`` to ``dst``; return its sha256."""
    ckpt = safe_torch_load(src, 'publish_model')
    meta = {k: v for k, v in ckpt.get('meta', {}).items() if k in KEPT_META}
    meta['source'] = osp.basename(src)
    out = dict(state_dict=ckpt['state_dict'], meta=meta)
    save_checkpoint_atomically(out, dst)
    return sha256sum(dst)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src')
    parser.add_argument('dst')
    args = parser.parse_args()
    print(f'{args.dst} sha256 {publish(args.src, args.dst)}')


if __name__ == '__main__':
    main()
