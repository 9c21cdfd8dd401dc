"""ONNX export of top-down pose models, and an ONNX Runtime pose estimator.

``export_onnx`` writes the network alone (backbone + neck + head) with a
dynamic batch dimension; a distiller (student and teacher) is refused, as
in the OpenVINO export (:mod:`.student_check`). It also stores in the
file, as JSON metadata, what the ONNX Runtime side needs to reproduce
``mmpose.apis.inference_topdown``: the config's test pipeline, the data
preprocessor's normalisation and the codec. ``OnnxPoseEstimator`` runs that
pipeline with MMPose's own transforms, ONNX Runtime for the network, and
MMPose's codec and back-projection for the output, so its keypoints match
``inference_topdown`` up to the runtime's float rounding; its input side,
``TopdownPreprocessor``, needs only the metadata.
"""
import contextlib
import io
import json
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import onnx
import onnxruntime as ort
import torch
from mmengine.config import Config, ConfigDict
from mmpose.apis import init_model
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS
from mmpose.structures.bbox import bbox_xywh2xyxy
from torch import nn

from ..fileio import atomic_write
from ..models.heads import DistilPoseHead
from ..models.utils import init_weights_quietly
from . import ort_attention
from .student_check import check_student_model

#: Key of the JSON metadata (``metadata_props``) in exported files.
META_KEY = 'distilpose.topdown'
INPUT_NAME = 'input'
#: The only input dimension that can vary: see ``check_dynamic``.
DYNAMIC_DIMS = ('batch', )


def load_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> nn.Module:
    """A top-down model on CPU in eval mode, as ``init_model`` builds it.

    Without ``checkpoint`` the weights are the model's own random
    initialisation (``init_weights``); a backbone ``Pretrained`` init is
    dropped first, so nothing is ever downloaded.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.backbone.init_cfg = None
    model = init_model(cfg, checkpoint, device='cpu')
    if checkpoint is None:
        init_weights_quietly(model)
    return model.eval()


class TopdownNetwork(nn.Module):
    """Images [N, 3, H, W] -> raw head outputs: what gets exported.

    With ``flip_test`` the head's own flip-back runs in the graph and the
    two passes are averaged exactly as ``DistilPoseHead.predict`` does.
    """

    def __init__(self, model: nn.Module, flip_test: bool = False):
        super().__init__()
        self.model = model
        self.flip_args = None
        if flip_test:
            if not isinstance(model.head, DistilPoseHead):
                raise ValueError('flip_test in the graph is implemented for '
                                 'DistilPoseHead only, not '
                                 f'{type(model.head).__name__}.')
            self.flip_args = dict(
                flip_indices=model.dataset_meta['flip_indices'],
                shift_coords=model.test_cfg.get('shift_coords', False),
                input_size=model.neck.input_size,
                flip_score_swap=model.test_cfg.get('flip_score_swap', True))

    def forward(self, x: torch.Tensor):
        out = self.model._forward(x)
        if self.flip_args is None:
            return out
        flipped = self.model._forward(x.flip(-1))
        return (out + self.model.head.flip_back(flipped, **self.flip_args)) \
            * 0.5


def _plain(obj):
    """Config objects -> JSON-ready Python (dicts, lists, numbers)."""
    if isinstance(obj, (dict, ConfigDict)):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def topdown_metadata(model: nn.Module, flip_test: bool = False) -> dict:
    """What ``OnnxPoseEstimator`` needs, from ``model.cfg`` (set by
    ``init_model`` / ``load_model``) and ``model.dataset_meta``."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('The model has no .cfg: build it with '
                         'distilpose.deploy.load_model or '
                         'mmpose.apis.init_model so that its test pipeline '
                         'and normalisation can be stored in the ONNX file.')
    pipeline = [
        _plain(t) for t in cfg.test_dataloader.dataset.pipeline
        if t['type'] != 'PackPoseInputs'
    ]
    affine = [t for t in pipeline if t['type'] == 'TopdownAffine']
    if len(affine) != 1:
        raise ValueError('Expected one TopdownAffine in the test pipeline, '
                         f'found {len(affine)}.')
    prep = cfg.model.data_preprocessor
    head = model.head
    outputs = None
    if isinstance(head, DistilPoseHead):
        outputs = ['x', 'y'] + ['score'] * head.with_score + \
            ['sigma_x', 'sigma_y'] * head.with_sigma
    meta = model.dataset_meta or {}
    id2name = meta.get('keypoint_id2name', {})
    return dict(
        input_size=list(affine[0]['input_size']),
        pipeline=pipeline,
        mean=_plain(prep.get('mean')),
        std=_plain(prep.get('std')),
        bgr_to_rgb=bool(prep.get('bgr_to_rgb', False)),
        codec=_plain(cfg.model.head.get('decoder')),
        outputs=outputs,
        flip_test=flip_test,
        keypoint_names=[id2name[i] for i in sorted(id2name)],
        skeleton_links=_plain(meta.get('skeleton_links', [])))


def check_dynamic(dynamic: Sequence[str], input_size: Sequence[int]) -> None:
    """Refuse dynamic sizes other than the batch, before anything is
    written.

    Height and width cannot vary: the token encoder's positional embedding
    is a fixed patch grid and the heads have fixed-size layers, so the
    network only accepts the input size it was built for.
    """
    bad = [d for d in dynamic if d not in DYNAMIC_DIMS]
    if bad:
        w, h = input_size
        raise ValueError(
            f'Cannot export with dynamic {bad}: only the batch dimension can '
            f'be dynamic. The network accepts {w}x{h} (w x h) inputs only '
            "(the token encoder's positional embedding is a fixed patch "
            'grid). Export with dynamic=("batch",) and let the '
            f'pre-processing (TopdownAffine) bring every crop to {w}x{h}, '
            'or change input_size in the config (codec, pipeline, neck) and '
            'export that model.')


def _export_bytes(net: nn.Module, dummy: torch.Tensor, opset: int) -> bytes:
    """The ONNX file of ``net`` traced on ``dummy``, batch dynamic."""
    with torch.no_grad():
        out = net(dummy)
    names = ['output'] if isinstance(out, torch.Tensor) else [
        f'output{i}' for i in range(len(out))
    ]
    axes = {name: {0: 'batch'} for name in [INPUT_NAME] + names}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Shape checks in forward() are constants for a fixed H x W.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            net, (dummy, ),
            buf,
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=names,
            dynamic_axes=axes)
    return buf.getvalue()


def export_onnx(model: nn.Module,
                path: str,
                dynamic: Sequence[str] = DYNAMIC_DIMS,
                flip_test: bool = False,
                opset: int = 17,
                fused_attention: bool = False) -> str:
    """Export a top-down model (built by ``load_model``) to ``path``.

    The graph maps normalised images [N, 3, H, W] to the head's raw
    outputs (DistilPose: [N, K, 5] = x, y normalised by the input size,
    raw score, sigma_x, sigma_y); N is dynamic. Uses the TorchScript
    exporter (the dynamo one needs onnxscript, not a dependency here).

    With ``fused_attention`` the token encoder's attention blocks are
    written as ONNX Runtime's fused ``Attention`` op (see
    :mod:`.ort_attention`; the file then needs ONNX Runtime), which is
    what :func:`~distilpose.deploy.quantize_int8` wants; the metadata's
    ``fused_attention`` counts them.

    Raises:
        ValueError: ``model`` is a distiller (export its student from the
            inference config) or a dimension other than the batch is
            asked to be dynamic; nothing is written.
    """
    check_student_model(model)
    meta = topdown_metadata(model, flip_test)
    check_dynamic(dynamic, meta['input_size'])
    w, h = meta['input_size']
    was_training = model.training
    net = TopdownNetwork(model, flip_test).eval()
    fusion = (ort_attention.fused_attention(model)
              if fused_attention else contextlib.nullcontext(0))
    try:
        with fusion as num_fused:
            meta['fused_attention'] = num_fused
            data = _export_bytes(net, torch.zeros(1, 3, h, w), opset)
    finally:
        model.train(was_training)
    proto = onnx.load_from_string(data)
    onnx.helper.set_model_props(proto, {META_KEY: json.dumps(meta)})
    onnx.checker.check_model(proto)
    atomic_write(proto.SerializeToString(), path)  # never a partial file
    return path


def create_session(path: str,
                   num_threads: Optional[int] = None
                   ) -> ort.InferenceSession:
    """A CPU ONNX Runtime session; ``num_threads`` sets the intra-op pool
    (ORT's default is one thread per physical core)."""
    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def read_metadata(session: ort.InferenceSession) -> dict:
    """The ``export_onnx`` metadata of a session's model."""
    text = session.get_modelmeta().custom_metadata_map.get(META_KEY)
    if text is None:
        raise ValueError(f'The ONNX model has no {META_KEY!r} metadata: '
                         'export it with distilpose.deploy.export_onnx.')
    return json.loads(text)


def compare_with_pytorch(model: nn.Module,
                         path: str,
                         batch_sizes: Sequence[int] = (1, 3),
                         seed: int = 0) -> Dict[int, np.ndarray]:
    """Run the ONNX file and ``model`` on the same random inputs.

    Returns, per batch size, the ONNX Runtime and PyTorch outputs stacked
    as ``[2, ...]`` (first output only), for the caller's tolerances.
    """
    session = create_session(path)
    return compare_runtime_with_pytorch(
        model, read_metadata(session),
        lambda x: session.run(None, {INPUT_NAME: x})[0], batch_sizes, seed)


def compare_runtime_with_pytorch(model: nn.Module, meta: dict,
                                 run: Callable[[np.ndarray], np.ndarray],
                                 batch_sizes: Sequence[int] = (1, 3),
                                 seed: int = 0) -> Dict[int, np.ndarray]:
    """``run`` (an exported model's first output for an input array, as
    ``meta`` describes it) against ``model`` on the same random inputs;
    per batch size, both outputs stacked as ``[2, ...]``."""
    w, h = meta['input_size']
    net = TopdownNetwork(model, meta['flip_test']).eval()
    gen = torch.Generator().manual_seed(seed)
    results = {}
    for n in batch_sizes:
        x = torch.randn(n, 3, h, w, generator=gen)
        with torch.no_grad():
            ref = net(x)
        ref = ref if isinstance(ref, torch.Tensor) else ref[0]
        results[n] = np.stack([run(x.numpy()), ref.numpy()])
    return results


def report_agreement(results: Dict[int, np.ndarray], runtime: str) -> float:
    """Print the largest |runtime - PyTorch| per batch size of
    :func:`compare_with_pytorch`'s results; return the worst."""
    worst = 0.
    for n, (got, ref) in results.items():
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        print(f'batch {n}: max |{runtime} - PyTorch| = {diff:.3g} '
              f'(output {tuple(got.shape)})')
    return worst


class TopdownPreprocessor:
    """The input side of an exported model, from its metadata alone: the
    config's test pipeline (MMPose's transforms) and the data
    preprocessor's channel order and normalisation. Serves any top-down
    export (heatmap models included): INT8 calibration makes its crops
    with it.

    Args:
        meta (dict): ``export_onnx``'s metadata (:func:`read_metadata`).
    """

    def __init__(self, meta: dict):
        self.meta = meta
        self.transforms = [TRANSFORMS.build(t) for t in meta['pipeline']]
        types = [t['type'] for t in meta['pipeline']]
        self.loader = self.transforms[types.index('LoadImage')]
        self.mean = np.asarray(meta['mean'], np.float32)[:, None, None]
        self.std = np.asarray(meta['std'], np.float32)[:, None, None]

    def load_image(self, img: Union[str, np.ndarray]) -> np.ndarray:
        """The image as the pipeline's ``LoadImage`` reads it (BGR).

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is empty or not a decodable image.
        """
        if isinstance(img, np.ndarray):
            return img
        if not osp.isfile(img):
            raise FileNotFoundError(f'Image not found: {img}')
        if osp.getsize(img) == 0:  # OpenCV's decoder asserts on it
            raise ValueError(f'The image {img} is empty (0 bytes).')
        try:
            return self.loader(dict(img_path=img))['img']
        except AssertionError as err:  # mmcv: the decoder returned None
            raise ValueError(f'The image {img} is not a decodable image '
                             '(corrupt or another format).') from err

    def __call__(self, img: np.ndarray, bboxes: np.ndarray
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crops of ``bboxes`` (xyxy) -> (inputs [B, 3, H, W] float32,
        input centres [B, 2], input scales [B, 2])."""
        crops, centers, scales = [], [], []
        for bbox in bboxes:
            results = dict(
                img=img, bbox=bbox[None], bbox_score=np.ones(1, np.float32))
            for transform in self.transforms:
                results = transform(results)
            crop = results['img']
            if self.meta['bgr_to_rgb']:
                crop = crop[..., ::-1]
            crops.append(crop.transpose(2, 0, 1).astype(np.float32))
            centers.append(results['input_center'])
            scales.append(results['input_scale'])
        inputs = (np.stack(crops) - self.mean) / self.std
        return inputs, np.stack(centers), np.stack(scales)


class OnnxPoseEstimator:
    """Top-down keypoints of people in an image with an exported model.

    Mirrors ``inference_topdown`` + ``TopdownPoseEstimator``: the config's
    test pipeline (:class:`TopdownPreprocessor`), the network on ONNX
    Runtime, the codec's decoding and ``add_pred_to_datasample``'s
    back-projection. Needs a regression model with a ``DistilPoseHead``
    (its score channel, when present, gives the keypoint scores, as in
    ``DistilPoseHead.predict``).

    Args:
        path (str): File written by ``export_onnx``.
        num_threads (int, optional): ONNX Runtime intra-op threads.
    """

    def __init__(self, path: str, num_threads: Optional[int] = None):
        self.session = create_session(path, num_threads)
        self.meta = read_metadata(self.session)
        if self.meta['outputs'] is None:
            raise ValueError(f'{path} is not a DistilPose-style regression '
                             'model: OnnxPoseEstimator cannot decode it.')
        self.preprocessor = TopdownPreprocessor(self.meta)
        self.codec = KEYPOINT_CODECS.build(self.meta['codec'])

    @property
    def keypoint_names(self) -> List[str]:
        return self.meta['keypoint_names']

    @property
    def skeleton_links(self) -> List[List[int]]:
        return self.meta['skeleton_links']

    def load_image(self, img: Union[str, np.ndarray]) -> np.ndarray:
        """See :meth:`TopdownPreprocessor.load_image`."""
        return self.preprocessor.load_image(img)

    def preprocess(self, img: np.ndarray, bboxes: np.ndarray
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See :meth:`TopdownPreprocessor.__call__`."""
        return self.preprocessor(img, bboxes)

    def postprocess(self, outputs: np.ndarray, centers: np.ndarray,
                    scales: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Network outputs [B, K, C] -> (keypoints [B, K, 2] in image
        pixels, scores [B, K])."""
        names = self.meta['outputs']
        keypoints, scores = self.codec.decode(outputs[..., :2])
        if 'score' in names:
            scores = outputs[..., names.index('score')]
        input_size = self.meta['input_size']
        centers, scales = centers[:, None], scales[:, None]
        keypoints = keypoints / input_size * scales + centers - 0.5 * scales
        return keypoints, scores

    def __call__(self,
                 img: Union[str, np.ndarray],
                 bboxes: Optional[np.ndarray] = None,
                 bbox_format: str = 'xyxy') -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints [B, K, 2] (image pixels) and scores [B, K] for each
        box (``xyxy`` or ``xywh``); no boxes means the whole image."""
        img = self.load_image(img)
        if bboxes is None or len(bboxes) == 0:
            h, w = img.shape[:2]
            bboxes = np.array([[0, 0, w, h]], dtype=np.float32)
        else:
            bboxes = np.asarray(bboxes)
            if bbox_format == 'xywh':
                bboxes = bbox_xywh2xyxy(bboxes)
            elif bbox_format != 'xyxy':
                raise ValueError(f'Invalid bbox_format {bbox_format!r}.')
        inputs, centers, scales = self.preprocess(img, bboxes)
        outputs = self.session.run(None, {INPUT_NAME: inputs})[0]
        return self.postprocess(outputs, centers, scales)
