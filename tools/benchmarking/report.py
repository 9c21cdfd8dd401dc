"""The benchmark's Markdown tables and plot, from the raw samples."""
import statistics
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

ENGINES = ('eager', 'compiled', 'eager_bf16', 'ort', 'ort_int8')
ENGINE_NAMES = {
    'eager': 'PyTorch eager',
    'compiled': 'PyTorch torch.compile',
    'eager_bf16': 'PyTorch eager, BF16 autocast',
    'ort': 'ONNX Runtime',
    'ort_int8': 'ONNX Runtime INT8'
}
#: Short column titles.
ENGINE_TITLES = {
    'eager': 'eager fp32',
    'compiled': 'compiled fp32',
    'eager_bf16': 'eager BF16',
    'ort': 'ORT fp32',
    'ort_int8': 'ORT INT8'
}
#: The precision of each engine's arithmetic: which GEMM peak bounds it.
PRECISION = dict(
    eager='fp32', compiled='fp32', eager_bf16='bf16', ort='fp32',
    ort_int8='int8')
#: The engines whose peak memory is probed.
MEMORY_ENGINES = ('eager', 'ort')


def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def engines_of(res: dict) -> List[str]:
    return res.get('engines', list(ENGINES))


def summarise(res: dict) -> Dict[str, dict]:
    """Per model: complexity, median latencies (ms; per image at the big
    batch), the FLOP bound of each precision (ms of its true MACs at the
    measured GEMM peak) and peak memory."""
    big = res['batch']
    rows = {}
    for name, info in res['complexity'].items():
        row = dict(info)
        for engine in engines_of(res):
            for n in (1, big):
                ms = median_ms(res['latency'][f'{name}|{engine}|{n}'])
                row[f'{engine}_b{n}'] = ms / n
        row['bound_ms'] = {
            precision: 2e3 * info['gmacs_true'] / peak
            for precision, peak in res['gemm_peaks'].items()
        }
        row['memory'] = res.get('memory', {}).get(name)
        rows[name] = row
    return rows


def _table(head: List[str], lines: List[List[str]]) -> str:
    return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
                     + ['| ' + ' | '.join(cells) + ' |' for cells in lines])


def latency_markdown(rows: Dict[str, dict], big: int,
                     engines: List[str]) -> str:
    """Size and latency of every engine, ms at batch 1 / ms per image at
    the big batch."""
    head = ['Model', 'Params (M)', 'GFLOPs (MMEngine)', 'GMACs (with attn)'
            ] + [f'{ENGINE_TITLES[e]} b1 / b{big}' for e in engines]
    lines = []
    for name, r in rows.items():
        lines.append([
            name, f'{r["params_m"]:.1f}', f'{r["gflops_mmengine"]:.2f}',
            f'{r["gmacs_true"]:.2f}'
        ] + [f'{r[f"{e}_b1"]:.1f} / {r[f"{e}_b{big}"]:.1f}' for e in engines])
    return _table(head, lines)


def _ratio(r: dict, engine: str, base: str, big: int) -> str:
    return (f'{r[f"{engine}_b1"] / r[f"{base}_b1"]:.2f}x / '
            f'{r[f"{engine}_b{big}"] / r[f"{base}_b{big}"]:.2f}x')


def ratios_markdown(rows: Dict[str, dict], big: int, engines: List[str],
                    reference: str) -> str:
    """Each fast path against its fp32 baseline, the best path at batch 1,
    the speed-up against ``reference`` on every engine, and each engine
    against the FLOP bound of its precision."""
    ref = rows[reference]
    versus = {'compiled': 'eager', 'eager_bf16': 'eager', 'ort': 'eager',
              'ort_int8': 'ort'}
    fast = [e for e in engines if e in versus]
    head = (['Model'] + [
        f'{ENGINE_TITLES[e]} / {ENGINE_TITLES[versus[e]]} b1 / b{big}'
        for e in fast
    ] + ['Best b1 (ms) / ORT fp32', f'Speed-up vs {reference} b1: ' +
         ' / '.join(ENGINE_TITLES[e] for e in engines),
         'b1 / FLOP bound: ' + ' / '.join(ENGINE_TITLES[e] for e in engines)])
    lines = []
    for name, r in rows.items():
        best = min(engines, key=lambda e: r[f'{e}_b1'])
        lines.append(
            [name] + [_ratio(r, e, versus[e], big) for e in fast] + [
                f'{ENGINE_TITLES[best]} {r[f"{best}_b1"]:.1f} / '
                f'{r[f"{best}_b1"] / r["ort_b1"]:.2f}x',
                ' / '.join(f'{ref[f"{e}_b1"] / r[f"{e}_b1"]:.1f}x'
                           for e in engines),
                ' / '.join(
                    f'{r[f"{e}_b1"] / r["bound_ms"][PRECISION[e]]:.2f}x'
                    for e in engines)
            ])
    return _table(head, lines)


def memory_markdown(rows: Dict[str, dict], big: int) -> str:
    head = ['Model'] + [f'Peak RSS {ENGINE_TITLES[e]} b1 / b{big} (MiB)'
                        for e in MEMORY_ENGINES]
    return _table(head, [[name] + [
        f'{r["memory"][e][1]:.0f} / {r["memory"][e][big]:.0f}'
        for e in MEMORY_ENGINES
    ] for name, r in rows.items() if r['memory']])


def training_markdown(samples: Dict[str, List[float]], batch: int) -> str:
    """Median step times, relative to the student-alone step."""
    ms = {k: median_ms(v) for k, v in samples.items()}
    base = ms['student-alone step']
    lines = [
        f'| Training, batch {batch} | Median (ms) | '
        'vs student-alone step |', '|---|---|---|'
    ]
    for k, v in ms.items():
        lines.append(f'| {k} | {v:.0f} | {v / base:.2f}x |')
    return '\n'.join(lines)


def plot(rows: Dict[str, dict], big: int, engines: List[str], threads: int,
         path: str) -> None:
    """Latency at batch 1 and per image at the big batch, every engine,
    with each model's fp32 FLOP bound; log scale."""
    names = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / len(engines)
    for ax, n, title in ((axes[0], 1, 'Latency, batch 1'),
                         (axes[1], big, f'Time per image, batch {big}')):
        for i, engine in enumerate(engines):
            vals = [rows[m][f'{engine}_b{n}'] for m in names]
            offset = (i - (len(engines) - 1) / 2) * width
            pos = [j + offset for j in range(len(names))]
            bars = ax.bar(pos, vals, width, label=ENGINE_NAMES[engine])
            ax.bar_label(bars, fmt='%.0f', fontsize=7)
        ax.scatter(range(len(names)),
                   [rows[m]['bound_ms']['fp32'] for m in names],
                   marker='_', s=400, color='k', zorder=3,
                   label='fp32 FLOP bound (true MACs)')
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_ylabel('ms (log scale)')
        ax.set_yscale('log')
        ax.set_title(f'{title}, {threads} threads')
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(res: dict, reference: str, threads: int, plot_path: str) -> str:
    """The whole Markdown report (what the tool prints); draws the plot."""
    big = res['batch']
    engines = engines_of(res)
    rows = summarise(res)
    start, end = res['load_start'], res['load_end']
    load = ('load average (1/5/15 min) '
            f'{start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f} at start, '
            f'{end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f} at end')
    peaks = ', '.join(f'{precision} {peak:.0f}'
                      for precision, peak in res['gemm_peaks'].items())
    parts = [
        f'Machine: {res["machine"]}, {threads} threads; GEMM peaks '
        f'measured (GFLOP/s; int8: GOP/s) {peaks}; '
        f'{res["versions"]}; {load}; {res["contention"]}.',
        f'Medians of {res["rounds"]} interleaved rounds ({res["reps"]} '
        'calls per round at batch 1); random weights, input '
        f'{res["input"][1]}x{res["input"][2]}; ms at batch 1 / ms per '
        f'image at batch {big}.', '',
        latency_markdown(rows, big, engines), '',
        ratios_markdown(rows, big, engines, reference), ''
    ]
    if any(r['memory'] for r in rows.values()):
        parts += [memory_markdown(rows, big), '']
    if 'training' in res:
        parts += [training_markdown(res['training'], res['train_batch']), '']
    plot(rows, big, engines, threads, plot_path)
    return '\n'.join(parts)
