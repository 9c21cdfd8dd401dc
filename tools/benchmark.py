"""Speed of DistilPose against its teacher and MMPose peers, on this CPU.

    python tools/benchmark.py [--out results/benchmark] [--rounds 5]
                              [--quick] [--no-train] [--no-memory]
                              [--max-wait 30]

Models, all 256x192 top-down with random weights (speed does not depend on
the values): DistilPose-S, DistilPose-L, the TokenPose HRNet-W48 teacher,
and RTMPose-s, HRNet-W32 (heatmap) and RLE-R50 built from MMPose's own
configs. For each: parameters; GFLOPs as MMEngine counts them (a
multiply-add is one FLOP; fused attention is invisible to it) and true
GMACs (attention matmuls included, counted on the explicit attention path);
median latency at batch 1 and 32 with 2 threads, PyTorch eager
(``inference_mode``) and ONNX Runtime; peak memory (``memory_probe``).
Latencies come from one process in interleaved rounds (every case once per
round, the order rotated each round), so slow drift hits all models alike;
a case during which other processes used the CPUs is repeated
(``QuietTimer``). The training side times a DistilPose-S distillation step
(student forward/backward + frozen teacher forward + distillation losses +
Adam) against a student-alone step (coordinate loss only), same student,
same batch.

Writes ``benchmark.md`` (what is printed), ``benchmark.json`` (every sample)
and ``benchmark.png`` to ``--out``.
"""
import argparse
import concurrent.futures as cf
import functools
import json
import multiprocessing as mp
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib
import mmpose
import onnxruntime as ort
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.apis import init_model
from mmpose.registry import MODELS as REGISTRY
from mmpose.structures import PoseDataSample

from distilpose.analysis import machine_name, model_complexity
from distilpose.deploy import (INPUT_NAME, TopdownNetwork, create_session,
                               export_onnx)

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
OURS = osp.join(ROOT, 'configs')
PEERS = osp.join(
    osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_2d_keypoint')
STUDENT, TEACHER, FAST_PEER = 'DistilPose-S', 'TokenPose teacher', 'RTMPose-s'
MODELS = {
    STUDENT: f'{OURS}/distilpose/coco/'
    'distilpose-s_stemnet_inference_coco-256x192.py',
    'DistilPose-L': f'{OURS}/distilpose/coco/'
    'distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py',
    TEACHER: f'{OURS}/tokenpose/coco/'
    'tokenpose_hrnet-w48_8xb64-300e_coco-256x192.py',
    FAST_PEER: f'{PEERS}/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py',
    'HRNet-W32 heatmap': f'{PEERS}/topdown_heatmap/coco/'
    'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'RLE-R50': f'{PEERS}/topdown_regression/coco/'
    'td-reg_res50_rle-8xb64-210e_coco-256x192.py',
}
DISTILLER = (f'{OURS}/distilpose/coco/'
             'distilpose-s_stemnet_8xb32-300e_coco-256x192.py')
INPUT = (3, 256, 192)
THREADS = 2
ENGINES = ('eager', 'ort')


def build(name: str) -> torch.nn.Module:
    """The model with its layers' default initialisation: ``init_model``
    drops the backbone's ``Pretrained`` init and ``init_weights`` is never
    called, so nothing is downloaded."""
    return init_model(MODELS[name], None, device='cpu')


# ---------------------------------------------------------------- timing
def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _cpu_seconds() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open('/proc/stat') as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    hz = os.sysconf('SC_CLK_TCK')
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


def _others_busy(fn: Callable[[], object]) -> Tuple[object, float]:
    """``fn()`` and the fraction of the machine's CPU time that other
    processes used meanwhile (ours, spinning threads included, is
    subtracted)."""
    busy0, total0 = _cpu_seconds()
    own0 = sum(os.times()[:2])
    out = fn()
    busy1, total1 = _cpu_seconds()
    others = (busy1 - busy0) - (sum(os.times()[:2]) - own0)
    return out, max(others, 0.) / max(total1 - total0, 1e-9)


class QuietTimer:
    """Times calls only while no other process uses the CPUs.

    On a shared machine a 2-thread OpenMP region stalls at every barrier
    while a neighbour holds the other core (eager calls were seen 10-70x
    slower), so contended timings measure the neighbours, not the models.
    Before each case this waits until the other processes leave the CPUs
    idle, and it repeats (up to ``retries`` times) a case during which
    they used more than ``busy_limit`` of the machine; a case gets at
    most ``max_wait`` s of waiting. Cases still contended after that are
    kept and counted.
    """

    def __init__(self, max_wait: float, retries: int = 3,
                 busy_limit: float = 0.1):
        self.max_wait, self.retries = max_wait, retries
        self.busy_limit = busy_limit
        self.cases = self.repeated = self.contended = 0
        self.waited = 0.

    def _wait(self, deadline: float) -> None:
        start = time.monotonic()
        while time.monotonic() < deadline and _others_busy(
                lambda: time.sleep(0.25))[1] > self.busy_limit:
            pass
        self.waited += time.monotonic() - start

    def __call__(self, fn: Callable[[], object], reps: int = 1
                 ) -> List[float]:
        """Seconds of ``reps`` calls of ``fn`` in a row."""
        if self.max_wait <= 0:
            return [timed(fn) for _ in range(reps)]
        self.cases += 1
        deadline = time.monotonic() + self.max_wait
        for attempt in range(self.retries + 1):
            self._wait(deadline)
            times, others = _others_busy(
                lambda: [timed(fn) for _ in range(reps)])
            if others <= self.busy_limit:
                return times
            if attempt == self.retries or time.monotonic() >= deadline:
                break
            self.repeated += 1
        self.contended += 1
        return times

    def summary(self) -> str:
        if self.max_wait <= 0:
            return 'contention checks off'
        return (f'{self.contended} of {self.cases} timed cases contended '
                f'by other processes ({self.repeated} repeats, '
                f'{self.waited:.0f} s waited for idle CPUs)')


def interleaved(runners: Dict[str, Callable],
                rounds: int,
                timer: QuietTimer,
                reps: Optional[Dict[str, int]] = None
                ) -> Dict[str, List[float]]:
    """Seconds per call of each runner: one warm-up call each, then
    ``rounds`` rounds in which every runner is called ``reps[key]`` times
    (default once) in a row; the order rotates by one each round."""
    reps = reps or {}
    for fn in runners.values():
        fn()
    keys = list(runners)
    samples = {k: [] for k in keys}
    for r in range(rounds):
        shift = r % len(keys)
        for k in keys[shift:] + keys[:shift]:
            samples[k] += timer(runners[k], reps.get(k, 1))
        print(f'  round {r + 1}/{rounds} done', flush=True)
    return samples


def eager_runner(net: torch.nn.Module, x: torch.Tensor) -> Callable:

    def run():
        with torch.inference_mode():
            return net(x)

    return run


def ort_runner(session: ort.InferenceSession, x: torch.Tensor) -> Callable:
    feed = {INPUT_NAME: x.numpy()}
    return lambda: session.run(None, feed)


def matmul_peak(timer: QuietTimer, n: int = 4096, reps: int = 3) -> float:
    """Best SGEMM GFLOP/s (n x n x n, the benchmark's threads): the FLOP
    bound of this machine."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / min(timer(lambda: a @ b, reps)) / 1e9


# ---------------------------------------------------------------- memory
def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def memory_probe(name: str, onnx_path: str,
                 batches: Sequence[int]) -> Dict[int, float]:
    """Peak resident memory of inference (MiB), in a fresh process.

    Torch's CPU allocator and ONNX Runtime's arena are invisible to
    tracemalloc, and a long-lived process keeps freed pages, so each model
    and engine runs in its own child process: the peak (VmHWM) minus the
    resident size before the model or session exists. Weights, activations
    and runtime caches are all counted; the high-water mark is reset
    (``/proc/self/clear_refs``) after building, so transient build-time
    allocations are not.
    """
    torch.set_num_threads(THREADS)
    base = _status_kib('VmRSS')
    if onnx_path:
        runner = functools.partial(ort_runner,
                                   create_session(onnx_path, THREADS))
    else:
        runner = functools.partial(eager_runner,
                                   TopdownNetwork(build(name)).eval())
    peaks = {}
    for n in batches:
        x = torch.randn(n, *INPUT)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        runner(x)()
        peaks[n] = (_status_kib('VmHWM') - base) / 1024
    return peaks


def measure_memory(onnx_paths: Dict[str, str],
                   batches: Sequence[int]) -> Dict[str, dict]:
    ctx = mp.get_context('spawn')
    out = {}
    with cf.ProcessPoolExecutor(
            1, mp_context=ctx, max_tasks_per_child=1) as pool:
        for name, path in onnx_paths.items():
            out[name] = {
                engine: pool.submit(memory_probe, name,
                                    path if engine == 'ort' else '',
                                    batches).result()
                for engine in ENGINES
            }
    return out


# -------------------------------------------------------------- training
def training_runners(batch: int, workdir: str) -> Dict[str, Callable]:
    """One Adam step of the DistilPose-S distiller (teacher: the TokenPose
    HRNet-W48, random weights saved to a temporary checkpoint) and of the
    same student alone, plus the teacher's forward for reference."""
    init_default_scope('mmpose')
    teacher_ckpt = osp.join(workdir, 'teacher.pth')
    teacher = REGISTRY.build(Config.fromfile(MODELS[TEACHER]).model)
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)
    del teacher
    cfg = Config.fromfile(DISTILLER)
    cfg.model.teacher_ckpt = teacher_ckpt
    distiller = REGISTRY.build(cfg.model)
    student = REGISTRY.build(Config.fromfile(MODELS[STUDENT]).model)
    student.load_state_dict(distiller.state_dict())

    inputs = torch.randn(batch, *INPUT)
    samples = []
    for _ in range(batch):
        sample = PoseDataSample()
        sample.gt_instance_labels = InstanceData(
            keypoint_labels=torch.rand(1, 17, 2),
            keypoint_weights=torch.ones(1, 17))
        samples.append(sample)

    def step(model):
        model.train()
        optim = torch.optim.Adam(model.parameters(), lr=1e-4)

        def run():
            optim.zero_grad()
            loss, _ = model.parse_losses(model.loss(inputs, samples))
            loss.backward()
            optim.step()

        return run

    def teacher_bf16():
        with torch.autocast('cpu', dtype=torch.bfloat16):
            distiller.teacher_forward(inputs)

    return {
        'student-alone step': step(student),
        'distillation step': step(distiller),
        'teacher forward (part of the step)':
        lambda: distiller.teacher_forward(inputs),
        'teacher forward, bf16 autocast (not used; headroom)': teacher_bf16,
    }


# --------------------------------------------------------------- report
def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def summarise(res: dict, big: int) -> Dict[str, dict]:
    """Per model: complexity and median latencies (ms; per image at the
    big batch) and peak memory."""
    rows = {}
    for name, info in res['complexity'].items():
        row = dict(info)
        for engine in ENGINES:
            for n in (1, big):
                ms = median_ms(res['latency'][f'{name}|{engine}|{n}'])
                row[f'{engine}_b{n}'] = ms / n
        row['bound_ms'] = 2e3 * info['gmacs_true'] / res['matmul_gflops']
        row['memory'] = res.get('memory', {}).get(name)
        rows[name] = row
    return rows


def markdown(res: dict, rows: Dict[str, dict], big: int) -> str:
    t = rows[TEACHER]
    head = [
        'Model', 'Params (M)', 'GFLOPs (MMEngine)', 'GMACs (with attn)',
        'Eager b1 (ms)', 'ORT b1 (ms)', f'Eager b{big} (ms/img)',
        f'ORT b{big} (ms/img)', 'Eager b1 / FLOP bound',
        'Speed-up vs teacher, b1 eager / ORT', 'ORT speed-up b1 / b'
        f'{big}', f'Peak RSS eager b1 / b{big} (MiB)',
        f'Peak RSS ORT b1 / b{big} (MiB)'
    ]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, r in rows.items():
        mem = r['memory']
        cells = [
            f'**{name}**' if name == STUDENT else name,
            f'{r["params_m"]:.1f}', f'{r["gflops_mmengine"]:.2f}',
            f'{r["gmacs_true"]:.2f}', f'{r["eager_b1"]:.1f}',
            f'{r["ort_b1"]:.1f}', f'{r[f"eager_b{big}"]:.1f}',
            f'{r[f"ort_b{big}"]:.1f}', f'{r["eager_b1"] / r["bound_ms"]:.2f}x',
            f'**{t["eager_b1"] / r["eager_b1"]:.1f}x** / '
            f'**{t["ort_b1"] / r["ort_b1"]:.1f}x**',
            f'{r["eager_b1"] / r["ort_b1"]:.2f}x / '
            f'{r[f"eager_b{big}"] / r[f"ort_b{big}"]:.2f}x',
        ]
        for engine in ENGINES:
            cells.append('n/a' if mem is None else
                         f'{mem[engine][1]:.0f} / {mem[engine][big]:.0f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def training_markdown(res: dict) -> str:
    ms = {k: median_ms(v) for k, v in res['training'].items()}
    base = ms['student-alone step']
    lines = [
        f'| Training, batch {res["train_batch"]} | Median (ms) | '
        'vs student-alone step |', '|---|---|---|'
    ]
    for k, v in ms.items():
        lines.append(f'| {k} | {v:.0f} | **{v / base:.2f}x** |')
    return '\n'.join(lines)


def targets(res: dict, rows: Dict[str, dict], big: int) -> List[str]:
    s, t, p = rows[STUDENT], rows[TEACHER], rows[FAST_PEER]
    checks = [
        (f'student >= 6x faster than the teacher at b1 (eager '
         f'{t["eager_b1"] / s["eager_b1"]:.1f}x, ORT '
         f'{t["ort_b1"] / s["ort_b1"]:.1f}x)',
         min(t['eager_b1'] / s['eager_b1'], t['ort_b1'] / s['ort_b1']) >= 6),
        (f'student eager b1 within 2x of the FLOP bound '
         f'({s["eager_b1"]:.1f} ms vs {s["bound_ms"]:.1f} ms bound: '
         f'{s["eager_b1"] / s["bound_ms"]:.2f}x)',
         s['eager_b1'] <= 2 * s['bound_ms']),
        (f'student ORT >= 1.5x faster than eager (b1 '
         f'{s["eager_b1"] / s["ort_b1"]:.2f}x, b{big} '
         f'{s[f"eager_b{big}"] / s[f"ort_b{big}"]:.2f}x)',
         min(s['eager_b1'] / s['ort_b1'],
             s[f'eager_b{big}'] / s[f'ort_b{big}']) >= 1.5),
        (f'student ORT b1 no slower than {FAST_PEER} eager b1 '
         f'({s["ort_b1"]:.1f} vs {p["eager_b1"]:.1f} ms)',
         s['ort_b1'] <= p['eager_b1']),
    ]
    if 'training' in res:
        ms = {k: median_ms(v) for k, v in res['training'].items()}
        ratio = ms['distillation step'] / ms['student-alone step']
        checks.append((f'distillation step <= 1.6x a student-alone step '
                       f'({ratio:.2f}x)', ratio <= 1.6))
    return [f'- [{"x" if ok else " "}] {text}' for text, ok in checks]


def plot(rows: Dict[str, dict], big: int, path: str) -> None:
    names = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.38
    for ax, n, title in ((axes[0], 1, 'Latency, batch 1'),
                         (axes[1], big, f'Time per image, batch {big}')):
        for i, engine in enumerate(ENGINES):
            vals = [rows[m][f'{engine}_b{n}'] for m in names]
            pos = [j + (i - 0.5) * width for j in range(len(names))]
            bars = ax.bar(pos, vals, width,
                          label='PyTorch eager' if engine == 'eager'
                          else 'ONNX Runtime')
            ax.bar_label(bars, fmt='%.0f', fontsize=7)
        ax.scatter(range(len(names)), [rows[m]['bound_ms'] for m in names],
                   marker='_', s=400, color='k', zorder=3,
                   label='FLOP bound (true MACs)')
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_ylabel('ms (log scale)')
        ax.set_yscale('log')
        ax.set_title(f'{title}, {THREADS} threads')
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine(peak: float) -> str:
    return (f'{machine_name()}, {THREADS} threads; SGEMM peak '
            f'measured {peak:.0f} GFLOP/s; torch {torch.__version__}, '
            f'onnxruntime {ort.__version__}')


# ------------------------------------------------------------------ main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='results/benchmark')
    parser.add_argument('--rounds', type=int, default=5,
                        help='interleaved rounds of inference timing')
    parser.add_argument('--reps', type=int, default=5,
                        help='batch-1 calls per case and round')
    parser.add_argument('--batch', type=int, default=32,
                        help='the large inference batch')
    parser.add_argument('--train-batch', type=int, default=32)
    parser.add_argument('--train-rounds', type=int, default=3)
    parser.add_argument('--models', nargs='+', choices=list(MODELS),
                        default=list(MODELS), metavar='MODEL')
    parser.add_argument(
        '--max-wait',
        type=float,
        default=30.,
        help='most seconds to wait for idle CPUs per timed case (the '
        'machine may be shared); 0 turns the contention checks off')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 2 rounds, 2 reps, batch 4')
    parser.add_argument('--no-train', action='store_true')
    parser.add_argument('--no-memory', action='store_true')
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = args.reps = args.train_rounds = 2
        args.batch = args.train_batch = 4
    for needed in (STUDENT, TEACHER, FAST_PEER):
        if needed not in args.models:
            parser.error(f'--models must include {needed} (the targets '
                         'compare against it).')
    return args


def run(args) -> dict:
    torch.set_num_threads(THREADS)
    big = args.batch
    res = dict(load_start=os.getloadavg(), batch=big,
               train_batch=args.train_batch, complexity={})
    tmp = tempfile.mkdtemp(prefix='benchmark-')
    timer = QuietTimer(args.max_wait)
    runners, reps, onnx_paths = {}, {}, {}
    for name in args.models:
        print(f'building {name}', flush=True)
        model = build(name)
        res['complexity'][name] = model_complexity(model, INPUT)
        onnx_paths[name] = export_onnx(model, osp.join(tmp, f'{name}.onnx'))
        session = create_session(onnx_paths[name], THREADS)
        net = TopdownNetwork(model).eval()
        for n in (1, big):
            x = torch.randn(n, *INPUT)
            for engine in ENGINES:
                key = f'{name}|{engine}|{n}'
                runners[key] = (eager_runner(net, x) if engine == 'eager'
                                else ort_runner(session, x))
                reps[key] = args.reps if n == 1 else 1
    res['matmul_gflops'] = matmul_peak(timer)
    print(f'timing {len(runners)} cases x {args.rounds} rounds', flush=True)
    res['latency'] = interleaved(runners, args.rounds, timer, reps)
    res['matmul_gflops'] = max(res['matmul_gflops'], matmul_peak(timer))
    del runners
    if not args.no_train:
        print('timing training steps', flush=True)
        res['training'] = interleaved(
            training_runners(args.train_batch, tmp), args.train_rounds, timer)
    if not args.no_memory:
        print('measuring peak memory (one process per model and engine)',
              flush=True)
        res['memory'] = measure_memory(onnx_paths, (1, big))
    res['load_end'] = os.getloadavg()
    res['contention'] = timer.summary()
    return res


def report(res: dict, args) -> str:
    big = res['batch']
    rows = summarise(res, big)
    load = (f'load average (1/5/15 min) {res["load_start"][0]:.2f}/'
            f'{res["load_start"][1]:.2f}/{res["load_start"][2]:.2f} at start,'
            f' {res["load_end"][0]:.2f}/{res["load_end"][1]:.2f}/'
            f'{res["load_end"][2]:.2f} at end')
    parts = [
        f'Machine: {machine(res["matmul_gflops"])}; {load}; '
        f'{res["contention"]}.',
        f'Medians of {args.rounds} interleaved rounds ({args.reps} calls '
        f'per round at batch 1); random weights, input 256x192.', '',
        markdown(res, rows, big), ''
    ]
    if 'training' in res:
        parts += [training_markdown(res), '']
    parts += ['Targets:'] + targets(res, rows, big)
    plot(rows, big, osp.join(args.out, 'benchmark.png'))
    return '\n'.join(parts) + '\n'


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    res = run(args)
    text = report(res, args)
    with open(osp.join(args.out, 'benchmark.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(args.out, 'benchmark.md'), 'w') as f:
        f.write(text)
    print('\n' + text)
    print(f'(ran {time.perf_counter() - start:.0f} s; written to '
          f'{args.out}/benchmark.md, .json, .png)')


if __name__ == '__main__':
    main()
