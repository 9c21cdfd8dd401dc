"""The files the model zoo lists, with the sha256 their metafiles give.

``model-index.yml`` (OpenMMLab's form, read by ``mim``) imports the
``configs/*/metafile.yml`` files; a model there with ``Weights`` (a path
relative to the index, or a URL) and a ``SHA256`` field in its
``Metadata`` is a published file with a known hash. :func:`zoo_entry`
finds the entry of a file about to be loaded, by its path or by the URL it
was named by, so that the checkpoint loader
(:mod:`distilpose.checkpoint`) can check every route against it, not only
the demo. :func:`file_sha256` hashes a file once per process and version
of the file (path, size, mtime, inode).

Without an index (the package installed away from its repository) nothing
is listed and nothing is checked.
"""
import os
import os.path as osp
import warnings
from typing import Dict, Optional

import yaml

from .fileio import sha256sum

#: The index; tests point it at a copy.
MODEL_INDEX = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'model-index.yml')

_hashes: Dict[tuple, str] = {}
_indexes: Dict[str, tuple] = {}


def _version(path: str) -> tuple:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def file_sha256(path: str) -> str:
    """The sha256 of ``path``, computed once per version of the file."""
    key = (osp.realpath(path), *_version(path))
    if key not in _hashes:
        _hashes[key] = sha256sum(path)
    return _hashes[key]


def _sha256_field(model: dict) -> Optional[str]:
    for fields in (model.get('Metadata') or {}, model):
        for key, value in fields.items():
            if str(key).lower() == 'sha256' and value:
                return str(value).lower()
    return None


def _read_index(index: str) -> tuple:
    """The metafiles ``index`` imports, and {realpath or URL: entry} of
    their models with weights and a sha256."""
    root = osp.dirname(index)
    with open(index) as f:
        metafiles = [osp.join(root, rel)
                     for rel in (yaml.safe_load(f) or {}).get('Import') or []]
    listed = {}
    for metafile in metafiles:
        with open(metafile) as f:
            models = (yaml.safe_load(f) or {}).get('Models') or []
        for model in models:
            weights, sha = model.get('Weights'), _sha256_field(model)
            if not weights or not sha:
                continue
            remote = weights.startswith(('http://', 'https://'))
            key = weights if remote else osp.realpath(osp.join(root, weights))
            listed[key] = dict(name=model.get('Name', weights),
                               weights=weights, sha256=sha,
                               metafile=metafile)
    return metafiles, listed


def _listed() -> dict:
    index = MODEL_INDEX
    if not osp.isfile(index):
        return {}
    cached = _indexes.get(index)
    try:
        if cached is not None and cached[0] == [
                _version(f) for f in [index, *cached[1]]]:
            return cached[2]
        metafiles, listed = _read_index(index)
        stamp = [_version(f) for f in [index, *metafiles]]
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as err:
        warnings.warn(
            f'{index} or a metafile it imports cannot be read ({err}): '
            'model-zoo files are loaded without their sha256 check. Fix '
            'the file (`git diff` shows what changed).')
        return {}
    _indexes[index] = (stamp, metafiles, listed)
    return listed


def zoo_entry(path: str, name: Optional[str] = None) -> Optional[dict]:
    """The model-zoo entry (``name``, ``weights``, ``sha256``,
    ``metafile``) of the local file ``path``, or of the URL ``name`` it was
    read from; None if the zoo does not list it."""
    listed = _listed()
    if not listed:
        return None
    entry = listed.get(osp.realpath(path))
    if entry is None and name:
        entry = listed.get(os.fspath(name))
    return entry
