"""What the distiller needs to know about its teacher: where its config
comes from, which heads give heatmaps, and the teacher's heatmap frame."""
import os.path as osp
from typing import Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.utils import get_installed_path, is_installed
from mmpose.models.heads import HeatmapHead

#: How each MMPose heatmap codec maps an input-pixel coordinate ``x`` to a
#: heatmap pixel: ``x * hm / in`` (MSRA-style, keypoints divided by the
#: stride) or ``x * (hm - 1) / (in - 1)`` (UDP-style, the corner pixels of
#: input and heatmap aligned).
HEATMAP_CODEC_FRAMES = dict(
    MSRAHeatmap='stride', MegviiHeatmap='stride', UDPHeatmap='udp')


def load_teacher_model_cfg(teacher_cfg: Union[str, dict]) -> ConfigDict:
    """The teacher's model config from a config file, an ``mmpose::`` path
    (as MMPose's ``_base_`` accepts), a full config dict or a model dict."""
    if isinstance(teacher_cfg, str):
        cfg = Config.fromfile(resolve_scoped_config(teacher_cfg))
        if 'model' not in cfg:
            raise ValueError(f'The teacher config {teacher_cfg} defines no '
                             '`model`.')
        return ConfigDict(cfg.model)
    if isinstance(teacher_cfg, (dict, ConfigDict)):
        if 'model' in teacher_cfg:
            teacher_cfg = teacher_cfg['model']
        if 'type' not in teacher_cfg:
            raise ValueError('teacher_cfg as a dict must be a model config '
                             '(with `type`) or a config holding `model`.')
        return ConfigDict(teacher_cfg)
    raise TypeError('teacher_cfg must be a config path or a dict, got '
                    f'{type(teacher_cfg).__name__}.')


def resolve_scoped_config(path: str) -> str:
    """``mmpose::rel/path.py`` -> the file under the installed package's
    ``.mim/configs``; other paths are returned unchanged.

    MMEngine's own ``mmengine.hub.get_config`` would try to pip-install a
    missing package; the project never downloads at run time.
    """
    if '::' not in path:
        return path
    package, _, rel = path.partition('::')
    if not is_installed(package):
        raise ModuleNotFoundError(
            f'The teacher config {path} names the package {package!r}, '
            'which is not installed.')
    full = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    if not osp.isfile(full):
        raise FileNotFoundError(
            f'The teacher config {path} does not exist: no {rel} under '
            f"{package}'s configs ({osp.dirname(full)}).")
    return full


def teacher_heatmap_frame(head, input_size: Tuple[int, int]) -> \
        Tuple[float, float]:
    """Heatmap pixels per unit of normalised input coordinate, (sx, sy),
    in the frame of the teacher head's codec: a keypoint at normalised
    ``(u, v)`` peaks at heatmap pixel ``(u * sx, v * sy)``.

    Raises a ``ValueError`` naming what cannot be reconciled: no codec, a
    codec that is not a known heatmap codec, or a codec input size that
    differs from the student's.
    """
    codec = getattr(head, 'decoder', None)
    name = type(codec).__name__
    if codec is None:
        raise ValueError(
            'The teacher head has no decoder (codec), so the frame of its '
            'heatmaps is unknown: give its config a `decoder=codec`.')
    if name not in HEATMAP_CODEC_FRAMES:
        raise ValueError(
            f'The teacher codec {name} is not a heatmap codec this project '
            f'knows the coordinate convention of '
            f'({sorted(HEATMAP_CODEC_FRAMES)}).')
    if tuple(codec.input_size) != tuple(input_size):
        raise ValueError(
            f'The teacher sees {tuple(codec.input_size)} (w, h) inputs and '
            f'the student {tuple(input_size)}: the teacher runs on the '
            "student's batch, so the input sizes must match.")
    (w_in, h_in), (w_hm, h_hm) = codec.input_size, codec.heatmap_size
    if HEATMAP_CODEC_FRAMES[name] == 'stride':
        return float(w_hm), float(h_hm)
    return (w_in * (w_hm - 1) / (w_in - 1), h_in * (h_hm - 1) / (h_in - 1))


def is_heatmap_head(head) -> bool:
    """Heads whose ``forward`` gives [N, K, H, W] heatmaps: MMPose's
    ``HeatmapHead`` and its subclasses (ViPNAS, ViTPose, TokenPoseHead)."""
    return isinstance(head, HeatmapHead)
