"""The benchmark's Markdown tables and plot, from the raw samples."""
import statistics
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

ENGINES = ('eager', 'eager_bf16', 'ort', 'ort_int8')
ENGINE_NAMES = {
    'eager': 'PyTorch eager',
    'eager_bf16': 'PyTorch eager, BF16 autocast',
    'ort': 'ONNX Runtime',
    'ort_int8': 'ONNX Runtime INT8 (convolutions)'
}
#: The engines whose peak memory is probed.
MEMORY_ENGINES = ('eager', 'ort')


def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def summarise(res: dict) -> Dict[str, dict]:
    """Per model: complexity, median latencies (ms; per image at the big
    batch), the FLOP bound (ms at the measured SGEMM peak) and peak
    memory."""
    big = res['batch']
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


def latency_markdown(rows: Dict[str, dict], big: int,
                     reference: str) -> str:
    """One row per model; speed-ups are against ``reference``."""
    ref = rows[reference]
    head = [
        'Model', 'Params (M)', 'GFLOPs (MMEngine)', 'GMACs (with attn)',
        'Eager b1 (ms)', 'ORT b1 (ms)', f'Eager b{big} (ms/img)',
        f'ORT b{big} (ms/img)', 'BF16 eager b1 (ms)',
        f'BF16 / fp32 eager b1 / b{big}', 'INT8 ORT b1 (ms)',
        f'INT8 ORT b{big} (ms/img)', f'INT8 / fp32 ORT b1 / b{big}',
        'Eager b1 / FLOP bound',
        f'Speed-up vs {reference}, b1 eager / ORT',
        f'ORT speed-up b1 / b{big}', f'Peak RSS eager b1 / b{big} (MiB)',
        f'Peak RSS ORT b1 / b{big} (MiB)'
    ]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, r in rows.items():
        mem = r['memory']
        cells = [
            name, f'{r["params_m"]:.1f}', f'{r["gflops_mmengine"]:.2f}',
            f'{r["gmacs_true"]:.2f}', f'{r["eager_b1"]:.1f}',
            f'{r["ort_b1"]:.1f}', f'{r[f"eager_b{big}"]:.1f}',
            f'{r[f"ort_b{big}"]:.1f}', f'{r["eager_bf16_b1"]:.1f}',
            f'{r["eager_bf16_b1"] / r["eager_b1"]:.2f}x / '
            f'{r[f"eager_bf16_b{big}"] / r[f"eager_b{big}"]:.2f}x',
            f'{r["ort_int8_b1"]:.1f}',
            f'{r[f"ort_int8_b{big}"]:.1f}',
            f'{r["ort_int8_b1"] / r["ort_b1"]:.2f}x / '
            f'{r[f"ort_int8_b{big}"] / r[f"ort_b{big}"]:.2f}x',
            f'{r["eager_b1"] / r["bound_ms"]:.2f}x',
            f'{ref["eager_b1"] / r["eager_b1"]:.1f}x / '
            f'{ref["ort_b1"] / r["ort_b1"]:.1f}x',
            f'{r["eager_b1"] / r["ort_b1"]:.2f}x / '
            f'{r[f"eager_b{big}"] / r[f"ort_b{big}"]:.2f}x',
        ]
        for engine in MEMORY_ENGINES:
            cells.append('n/a' if mem is None else
                         f'{mem[engine][1]:.0f} / {mem[engine][big]:.0f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


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


def plot(rows: Dict[str, dict], big: int, threads: int, path: str) -> None:
    """Latency at batch 1 and per image at the big batch, both engines,
    with each model's FLOP bound; log scale."""
    names = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / len(ENGINES)
    for ax, n, title in ((axes[0], 1, 'Latency, batch 1'),
                         (axes[1], big, f'Time per image, batch {big}')):
        for i, engine in enumerate(ENGINES):
            vals = [rows[m][f'{engine}_b{n}'] for m in names]
            offset = (i - (len(ENGINES) - 1) / 2) * width
            pos = [j + offset for j in range(len(names))]
            bars = ax.bar(pos, vals, width, label=ENGINE_NAMES[engine])
            ax.bar_label(bars, fmt='%.0f', fontsize=7)
        ax.scatter(range(len(names)), [rows[m]['bound_ms'] for m in names],
                   marker='_', s=400, color='k', zorder=3,
                   label='FLOP bound (true MACs)')
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
    rows = summarise(res)
    start, end = res['load_start'], res['load_end']
    load = ('load average (1/5/15 min) '
            f'{start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f} at start, '
            f'{end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f} at end')
    parts = [
        f'Machine: {res["machine"]}, {threads} threads; SGEMM peak '
        f'measured {res["matmul_gflops"]:.0f} GFLOP/s; '
        f'{res["versions"]}; {load}; {res["contention"]}.',
        f'Medians of {res["rounds"]} interleaved rounds ({res["reps"]} '
        'calls per round at batch 1); random weights, input '
        f'{res["input"][1]}x{res["input"][2]}.', '',
        latency_markdown(rows, big, reference), ''
    ]
    if 'training' in res:
        parts += [training_markdown(res['training'], res['train_batch']), '']
    plot(rows, big, threads, plot_path)
    return '\n'.join(parts)
