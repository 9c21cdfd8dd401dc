"""Check that a model and a dataset agree on the keypoint layout.

A model configured for K keypoints and a dataset of another K, or a
metainfo file whose ``sigmas``/``joint_weights``/flip pairs do not fit its
keypoints, otherwise fail late and cryptically: a shape error in the loss,
a broadcasting error in ``CocoMetric`` after the first epoch, or silently
wrong flip tests.
:class:`~distilpose.runtime.hooks.KeypointLayoutCheckHook` runs the checks
before training, validation and testing start, so the run stops before any
checkpoint is written; :func:`check_keypoint_layout` is shared with the
inference API.
"""
from typing import Dict

from mmengine.model import is_model_wrapper
from mmpose.models.heads import HeatmapHead

#: Metainfo entries that hold one item per keypoint, with the
#: ``dataset_info`` field that sets each.
PER_KEYPOINT = {
    'flip_indices': "keypoint_info[...]['swap']",
    'sigmas': 'sigmas',
    'dataset_keypoint_weights': 'joint_weights',
    'keypoint_id2name': 'keypoint_info',
    'keypoint_colors': "keypoint_info[...]['color']",
}


def model_keypoint_counts(model) -> Dict[str, int]:
    """The keypoint counts a pose model is built for, by config key.

    Reads ``neck.num_keypoints`` (token encoder), ``head.num_joints``
    (regression heads) and, for heatmap heads, ``head.out_channels``.
    """
    if is_model_wrapper(model):
        model = model.module
    counts = {}
    neck = getattr(model, 'neck', None)
    if isinstance(getattr(neck, 'num_keypoints', None), int):
        counts['model.neck.num_keypoints'] = neck.num_keypoints
    head = getattr(model, 'head', None)
    if isinstance(getattr(head, 'num_joints', None), int):
        counts['model.head.num_joints'] = head.num_joints
    elif isinstance(head, HeatmapHead):
        counts['model.head.out_channels'] = head.out_channels
    return counts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _check_flip_indices(flip, names) -> None:
    for i, j in enumerate(flip):
        if not 0 <= j < len(flip) or flip[j] != i:
            partner = (f"'{names.get(flip[j], flip[j])}'"
                       if 0 <= j < len(flip) else 'nothing')
            raise ValueError(
                f"The flip pairs of the metainfo are not symmetric: "
                f"keypoint '{names.get(i, i)}' swaps with "
                f"'{names.get(j, j)}', which swaps with {partner}. Give "
                "both keypoints of each left/right pair each other's name "
                "as 'swap' in the dataset_info file.")


def check_metainfo(metainfo: dict, source: str) -> int:
    """Check that every per-keypoint entry of a parsed MMPose metainfo has
    one item per keypoint and that the flip pairs are symmetric.

    Returns:
        int: the number of keypoints K of the metainfo.
    """
    num = metainfo.get('num_keypoints')
    if num is None:
        raise ValueError(
            f'{_capital(source)} has no num_keypoints in its metainfo; set '
            'metainfo=dict(from_file=<dataset_info.py>).')
    for key, field in PER_KEYPOINT.items():
        value = metainfo.get(key)
        if value is not None and len(value) != num:
            raise ValueError(
                f"The metainfo of {source} has {len(value)} entries in "
                f"'{key}' but {num} keypoints. Fix '{field}' in its "
                'dataset_info file: it needs one entry per keypoint.')
    flip = metainfo.get('flip_indices')
    if flip is not None:
        _check_flip_indices(list(flip), metainfo.get('keypoint_id2name', {}))
    return num


def check_keypoint_layout(model, metainfo: dict, source: str) -> None:
    """Raise a ``ValueError`` naming the config keys to change if the
    metainfo does not fit itself or the model's keypoint count."""
    num = check_metainfo(metainfo, source)
    wrong = {k: v for k, v in model_keypoint_counts(model).items()
             if v != num}
    if wrong:
        keys = ', '.join(f'{k}={v}' for k, v in wrong.items())
        raise ValueError(
            f'{_capital(source)} has {num} keypoints but the model is built '
            f'for another count ({keys}). Set num_keypoints (and these keys) '
            f'to {num} in the config, or give the dataset the metainfo of '
            "the model's layout with dataset.metainfo=dict(from_file="
            '<dataset_info.py>).')


def check_dataset(model, dataset, source: str) -> None:
    """:func:`check_keypoint_layout` on a dataset's metainfo, plus the
    keypoint count of every annotation (the annotation file and the
    metainfo can disagree, and one malformed annotation otherwise fails at
    batch collation with a bare size error, the annotation not named)."""
    metainfo = getattr(dataset, 'metainfo', None)
    if not metainfo or 'num_keypoints' not in metainfo:
        return  # not a pose dataset: nothing to check against
    check_keypoint_layout(model, metainfo, source)
    num = metainfo['num_keypoints']
    infos = list(_data_infos(dataset))
    bad = [(i, info) for i, info in enumerate(infos)
           if info.get('keypoints') is not None
           and info['keypoints'].shape[-2] != num]
    if not bad:
        return
    counts = sorted({info['keypoints'].shape[-2] for _, info in bad})
    if len(bad) == len(infos):
        raise ValueError(
            f'The annotations of {source} have {counts[0]} keypoints per '
            f'instance but its metainfo has {num}: point dataset.metainfo='
            'dict(from_file=...) at the dataset_info file of these '
            'annotations.')
    named = '; '.join(
        f"sample {i} (annotation id {info.get('id')}, "
        f"{info.get('img_path')}): {info['keypoints'].shape[-2]}"
        for i, info in bad[:5])
    raise ValueError(
        f'{len(bad)} of the {len(infos)} annotations of {source} have a '
        f'keypoint count other than the {num} of the metainfo and the '
        f'other annotations: {named}{" ..." if len(bad) > 5 else ""}. Fix '
        'or remove these annotations in the annotation file.')


def _data_infos(dataset):
    """The raw annotations of all samples (no pipeline is run)."""
    if not hasattr(dataset, 'get_data_info'):
        return
    for i in range(len(dataset)):
        try:
            yield dataset.get_data_info(i)
        except (IndexError, KeyError, TypeError):
            return
