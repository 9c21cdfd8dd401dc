"""Checkpoint URLs: torch's hub cache, and a fast, clear failure offline.

MMEngine downloads ``http(s)://`` checkpoints (``load_from``,
``init_cfg=dict(type='Pretrained', checkpoint=<url>)``, the detector of
``MMPoseInferencer``) with ``urlopen`` and no timeout: on a cluster node
without internet access that is an obscure ``URLError`` at best and a hang
of minutes at worst. :func:`fetch_to_cache` serves files already in torch's
hub cache and otherwise first probes the host (or the configured proxy)
with a short timeout, raising :class:`NoNetworkError` that says what to do.
The safe checkpoint loader (:mod:`distilpose.checkpoint`) reads URLs
through it; :mod:`distilpose.runtime.mmengine_patches` gives MMEngine
that loader.
"""
import os
import os.path as osp
import re
import socket
import threading
import urllib.request
from typing import Optional
from urllib.parse import urlparse

import torch

#: OpenMMLab's and torch.hub's ``name-<sha256 prefix>.ext`` file names.
HASH_SUFFIX = re.compile(r'-([a-f0-9]{8,64})\.[A-Za-z]+$')

#: Seconds to wait for a TCP connection to the checkpoint's host.
PROBE_TIMEOUT_S = float(os.environ.get('DISTILPOSE_NET_TIMEOUT', 5))


class NoNetworkError(ConnectionError):
    """A checkpoint URL is needed but its host cannot be reached."""


def cached_file(url: str, model_dir: Optional[str] = None) -> str:
    """Where torch's hub cache keeps (or would keep) the file of ``url``."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    return osp.join(model_dir, osp.basename(urlparse(url).path))


def _endpoint(url: str):
    """(host, port, label) that a download of ``url`` connects to: the
    proxy of its scheme if one is set (``https_proxy`` ...), else its
    host."""
    parts = urlparse(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ''):
        proxy_parts = urlparse(proxy if '://' in proxy else f'//{proxy}')
        return (proxy_parts.hostname, proxy_parts.port or 80,
                f'the {parts.scheme} proxy ')
    return (parts.hostname, parts.port or
            (443 if parts.scheme == 'https' else 80), '')


def unreachable(url: str,
                timeout: Optional[float] = None) -> Optional[str]:
    """Why the host (or proxy) of ``url`` cannot be reached, or None if it
    answers.

    Name resolution has no timeout of its own, so the whole probe runs in
    a daemon thread that is abandoned after ``timeout`` seconds (default
    :data:`PROBE_TIMEOUT_S`, env ``DISTILPOSE_NET_TIMEOUT``).
    """
    timeout = PROBE_TIMEOUT_S if timeout is None else timeout
    host, port, label = _endpoint(url)
    address = f'{label}{host}:{port}'
    outcome = {}

    def connect():
        try:
            socket.create_connection((host, port), timeout).close()
        except OSError as err:
            outcome['error'] = err

    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(timeout)
    if probe.is_alive():
        return f'{address} did not answer within {timeout:g} s'
    if 'error' in outcome:
        return f'cannot connect to {address} ({outcome["error"]})'
    return None


def fetch_to_cache(url: str, model_dir: Optional[str] = None) -> str:
    """The file of ``url`` in torch's hub cache, downloaded there first if
    it is missing (after a reachability probe; checked against the hash
    in its name, as ``torch.hub`` does). Returns its path."""
    local = cached_file(url, model_dir)
    if osp.isfile(local):
        return local
    reason = unreachable(url)
    if reason:
        raise NoNetworkError(
            f'Cannot download the checkpoint {url}: {reason}. '
            'Download it on a machine with network access, then either '
            f'copy it to {local} (it is used from there) or set the '
            'config entry that names this URL to the local file (e.g. '
            '--cfg-options load_from=<file>, or '
            'model.backbone.init_cfg.checkpoint=<file> for a '
            'pretrained backbone).')
    os.makedirs(osp.dirname(local), exist_ok=True)
    match = HASH_SUFFIX.search(osp.basename(local))
    # torch writes to a temporary file and renames it when complete.
    torch.hub.download_url_to_file(
        url, local, hash_prefix=match.group(1) if match else None,
        progress=os.isatty(0))
    return local
