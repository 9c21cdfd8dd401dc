"""The pieces of ``tools/benchmark.py``, one job each.

- ``models``: which models are timed and how they are built;
- ``timing``: contention-aware timing in interleaved rounds;
- ``inference``: the timed calls (PyTorch eager, ONNX Runtime) and the
  machine's FLOP bound;
- ``memory``: peak resident memory, one child process per case;
- ``training``: a distillation step against a student-alone step;
- ``gpu``: the ``--device cuda`` path: fp32 / BF16 / fp16 latency and
  throughput with CUDA events, peak GPU memory (also the timing and
  device checks of ``tools/train_throughput.py``);
- ``report``: the Markdown tables and the plot.
"""
