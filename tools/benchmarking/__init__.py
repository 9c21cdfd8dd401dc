"""The pieces of ``tools/benchmark.py``, one job each.

- ``models``: which models are timed and how they are built;
- ``engines``: the timed paths, their names and precisions;
- ``timing``: contention-aware timing in interleaved rounds;
- ``inference``: the timed calls (PyTorch eager, ONNX Runtime) and the
  machine's FLOP bound;
- ``openvino_paths``: the OpenVINO FP32 / BF16 / INT8 paths, made by the
  project's export;
- ``analysis``: model size and compute, and the machine line (CPU model,
  ISA flags);
- ``memory``: peak resident memory, one child process per case;
- ``training``: a distillation step against a student-alone step;
- ``gpu``: the ``--device cuda`` path: fp32 / BF16 / fp16 latency and
  throughput with CUDA events, peak GPU memory (also the timing and
  device checks of ``tools/train_throughput.py``);
- ``report``: the Markdown tables, the runtime guide and the plot;
- ``targets``: the speed targets one run can decide, PASS or MISS.

``openvino_latency.py`` is a script of its own: the OpenVINO INT8 variants
of DistilPose-S, calibrated on real crops.
"""
