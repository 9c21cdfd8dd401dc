"""Turn a training checkpoint into a shippable model file.

    python tools/publish_model.py IN.pth OUT.pth

Keeps the weights (``state_dict``) and plain-typed metadata, drops the
optimizer, scheduler and message-hub state (what MMPose's
``tools/misc/publish_model.py`` also drops), so the file is a fraction of
the size and loads with ``torch.load(weights_only=True)`` without any
allow-listed globals. Writes atomically and prints the sha256.
"""
import argparse
import hashlib
import os
import os.path as osp
import tempfile

import torch

from distilpose.checkpoint import mmengine_checkpoint_globals

#: Metadata entries kept; all are plain strings or numbers.
KEPT_META = ('epoch', 'iter', 'seed', 'mmengine_version', 'time')


def sha256sum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def publish(src: str, dst: str) -> str:
    """Write the weights of ``src`` to ``dst``; return its sha256."""
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        ckpt = torch.load(src, map_location='cpu', weights_only=True)
    meta = {k: v for k, v in ckpt.get('meta', {}).items() if k in KEPT_META}
    meta['source'] = osp.basename(src)
    out = dict(state_dict=ckpt['state_dict'], meta=meta)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(dst)),
                               suffix='.tmp')
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; a shipped file is not
    try:
        torch.save(out, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return sha256sum(dst)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src')
    parser.add_argument('dst')
    args = parser.parse_args()
    print(f'{args.dst} sha256 {publish(args.src, args.dst)}')


if __name__ == '__main__':
    main()
