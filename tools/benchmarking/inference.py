"""The timed inference calls, on PyTorch (eager, compiled, BF16) and ONNX
Runtime (fp32, INT8), and the machine's GEMM peaks they are compared
with."""
import copy
from typing import Callable, Dict

import numpy as np
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from distilpose.deploy import INPUT_NAME, TopdownNetwork
from distilpose.models.utils import set_inference_precision

from .timing import QuietTimer

#: The PyTorch engines: (precision, torch.compile) as
#: ``model.test_cfg`` selects them (``distilpose.models.utils.precision``).
TORCH_ENGINES = {
    'eager': ('fp32', False),
    'compiled': ('fp32', True),
    'eager_bf16': ('bf16', False),
}


def torch_network(model: torch.nn.Module, engine: str) -> torch.nn.Module:
    """The network of ``model`` (of a copy, unless ``engine`` is plain
    eager) switched to ``engine`` as ``model.test_cfg`` would switch it.
    A compiled one compiles on its first call per input shape."""
    precision, compile_ = TORCH_ENGINES[engine]
    if precision != 'fp32' or compile_:
        model = set_inference_precision(copy.deepcopy(model), precision,
                                        compile_)
    return TopdownNetwork(model).eval()


def torch_runner(net: torch.nn.Module, x: torch.Tensor) -> Callable:
    """One forward pass of ``net`` under ``inference_mode``."""

    def run():
        with torch.inference_mode():
            return net(x)

    return run


def ort_runner(session: ort.InferenceSession, x: torch.Tensor) -> Callable:
    """One run of an exported network on ONNX Runtime."""
    feed = {INPUT_NAME: x.numpy()}
    return lambda: session.run(None, feed)


def _int8_gemm(n: int, threads: int) -> Callable:
    """ONNX Runtime's u8 x s8 -> s32 GEMM (MatMulInteger), n x n x n: the
    kernel an INT8 model's quantized layers run."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(
        rng.integers(-127, 128, (n, n), dtype=np.int8), 'B')
    graph = helper.make_graph(
        [helper.make_node('MatMulInteger', ['A', 'B'], ['Y'])], 'gemm',
        [helper.make_tensor_value_info('A', TensorProto.UINT8, [n, n])],
        [helper.make_tensor_value_info('Y', TensorProto.INT32, [n, n])],
        [weight])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=['CPUExecutionProvider'])
    feed = {'A': rng.integers(0, 256, (n, n), dtype=np.uint8)}
    return lambda: session.run(None, feed)


def gemm_peaks(timer: QuietTimer, threads: int, reps: int = 3,
               precisions=('fp32', 'bf16', 'int8')) -> Dict[str, float]:
    """Best GEMM throughput (G multiply-adds x 2 per second) of this
    machine for each of ``precisions``, torch's current threads: fp32 and
    BF16 in torch (n = 4096), INT8 in ONNX Runtime (n = 2048). The FLOP
    bound of a model in a precision is its true MACs at that peak."""

    def torch_gemm(dtype):
        a, b = torch.randn(4096, 4096, dtype=dtype), torch.randn(
            4096, 4096, dtype=dtype)
        return 4096, lambda: a @ b

    gemms = {
        'fp32': lambda: torch_gemm(torch.float32),
        'bf16': lambda: torch_gemm(torch.bfloat16),
        'int8': lambda: (2048, _int8_gemm(2048, threads)),
    }
    peaks = {}
    for precision in precisions:
        size, fn = gemms[precision]()
        fn()
        peaks[precision] = 2 * size**3 / min(timer(fn, reps)) / 1e9
    return peaks
