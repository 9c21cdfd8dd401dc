"""The benchmark's Markdown tables and plot, from the raw samples."""
import statistics
from typing import Dict, List, Sequence

import matplotlib

from .analysis import CPU_CLASSES
from .engines import ENGINE_NAMES, ENGINE_TITLES, ENGINES, PRECISION
from .targets import targets_markdown

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

#: The baselines every path is given against: the deployment baseline and
#: the PyTorch one.
BASELINES = ('ort', 'eager')
#: The engines whose peak memory is probed.
MEMORY_ENGINES = ('eager', 'ort')


def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def engines_of(res: dict) -> List[str]:
    return res.get('engines', list(ENGINES))


def round_medians(samples: List[float], reps: int) -> List[float]:
    """Median (ms) of each round's ``reps`` consecutive calls."""
    return [median_ms(samples[i:i + reps])
            for i in range(0, len(samples), reps)]


def summarise(res: dict) -> Dict[str, dict]:
    """Per model: complexity; for each engine and batch ``n`` (key
    ``{engine}_b{n}``) the median latency (ms; per image at n > 1) and
    the spread (min, max) of the round medians; the FLOP bound of each
    precision (ms of its true MACs at the measured GEMM peak) and peak
    memory."""
    rows = {}
    for name, info in res['complexity'].items():
        row = dict(info, spread={})
        for engine in engines_of(res):
            for n in res['batches']:
                samples = res['latency'][f'{name}|{engine}|{n}']
                reps = res['reps'] if n == 1 else 1
                rounds = round_medians(samples, reps)
                row[f'{engine}_b{n}'] = median_ms(samples) / n
                row['spread'][f'{engine}_b{n}'] = (min(rounds) / n,
                                                   max(rounds) / n)
        row['bound_ms'] = {
            precision: 2e3 * info['gmacs_true'] / peak
            for precision, peak in res['gemm_peaks'].items()
        }
        row['memory'] = res.get('memory', {}).get(name)
        rows[name] = row
    return rows


def _count(n: int, noun: str) -> str:
    return f'{n} {noun}{"s" if n != 1 else ""}'


def _table(head: List[str], lines: List[List[str]]) -> str:
    return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
                     + ['| ' + ' | '.join(cells) + ' |' for cells in lines])


def _per_batch(batches: Sequence[int]) -> str:
    return ' / '.join(f'b{n}' for n in batches)


def latency_markdown(rows: Dict[str, dict], batches: Sequence[int],
                     engines: List[str], absent: Dict[str, str] = None
                     ) -> str:
    """Size, FLOP bounds and the median latency of every engine (ms at
    batch 1, ms per image at larger batches); an absent engine keeps its
    column, which says so."""
    absent = absent or {}
    columns = [e for e in ENGINES if e in engines or e in absent]
    precisions = list(next(iter(rows.values()))['bound_ms']) if rows else []
    head = ['Model', 'Params (M)', 'GFLOPs (MMEngine)', 'GMACs (with attn)',
            'FLOP bound (ms) ' + ' / '.join(precisions)] + [
                f'{ENGINE_TITLES[e]} {_per_batch(batches)}' for e in columns]
    lines = []
    for name, r in rows.items():
        lines.append([
            name, f'{r["params_m"]:.1f}', f'{r["gflops_mmengine"]:.2f}',
            f'{r["gmacs_true"]:.2f}',
            ' / '.join(f'{r["bound_ms"][p]:.1f}' for p in precisions)
        ] + [('absent (below)' if e in absent else ' / '.join(
            f'{r[f"{e}_b{n}"]:.1f}' for n in batches)) for e in columns])
    return _table(head, lines)


def _ratios(r: dict, engine: str, base: str, batches: Sequence[int]) -> str:
    if f'{base}_b{batches[0]}' not in r:
        return '-'  # the baseline was not timed
    return ' / '.join(f'{r[f"{engine}_b{n}"] / r[f"{base}_b{n}"]:.2f}x'
                      for n in batches)


def paths_markdown(rows: Dict[str, dict], batches: Sequence[int],
                   engines: List[str], reference: str) -> str:
    """One line per model and path: median and the spread of the round
    medians, the latency over each baseline's (``BASELINES``), the
    speed-up of ``reference`` over the model on the same path and the
    latency over the FLOP bound of the path's precision."""
    per = _per_batch(batches)
    head = (['Model', 'Path'] + [
        f'b{n} ms{" per image" if n > 1 else ""}: median (rounds min-max)'
        for n in batches
    ] + [f'/ {ENGINE_TITLES[b]} {per}' for b in BASELINES] + [
        f'speed-up vs {reference} {per}', f'/ FLOP bound {per}'
    ])
    ref = rows[reference]
    lines = []
    for name, r in rows.items():
        for e in engines:
            cells = [name, ENGINE_TITLES[e]]
            for n in batches:
                low, high = r['spread'][f'{e}_b{n}']
                cells.append(f'{r[f"{e}_b{n}"]:.1f} ({low:.1f}-{high:.1f})')
            cells += [_ratios(r, e, b, batches) for b in BASELINES]
            cells.append(' / '.join(
                f'{ref[f"{e}_b{n}"] / r[f"{e}_b{n}"]:.1f}x'
                for n in batches))
            bound = r['bound_ms'][PRECISION[e]]
            cells.append(' / '.join(f'{r[f"{e}_b{n}"] / bound:.2f}x'
                                    for n in batches) + f' ({PRECISION[e]})')
            lines.append(cells)
    return _table(head, lines)


def ranked_paths(r: dict, engines: List[str], n: int) -> str:
    """The engines fastest first at batch ``n``, each with its time and
    its ratio to ORT fp32 (where that was timed)."""
    ranked = sorted(engines, key=lambda e: r[f'{e}_b{n}'])
    base = r.get(f'ort_b{n}')
    return ', '.join(
        f'{ENGINE_TITLES[e]} {r[f"{e}_b{n}"]:.1f}'
        + (f' ({r[f"{e}_b{n}"] / base:.2f}x)' if base else '')
        for e in ranked)


def runtime_guide(res: dict) -> str:
    """The rows of docs/deployment.md's guide for this machine: every
    model's paths, fastest first, at each batch size."""
    rows = summarise(res)
    engines = engines_of(res)
    threads = _count(res['threads'], 'thread')
    cpu = f'{CPU_CLASSES[res["cpu_class"]]}, {threads}'
    lines = [[cpu, name, str(n), ranked_paths(r, engines, n)]
             for name, r in rows.items() for n in res['batches']]
    absent = ''.join(f'\n\n{ENGINE_TITLES[e]}: absent: {why}.'
                     for e, why in res.get('absent', {}).items())
    return (f'Machine: {res["machine"]}; {res["versions"]}; '
            f'{res["contention"]}.\n\n' + _table(
                ['CPU', 'Model', 'Batch', 'Paths, fastest first: ms (per '
                 'image at batch > 1) and x ORT fp32'], lines) + absent + '\n')


def memory_markdown(rows: Dict[str, dict], batches: Sequence[int]) -> str:
    head = ['Model'] + [
        f'Peak RSS {ENGINE_TITLES[e]} {_per_batch(batches)} (MiB)'
        for e in MEMORY_ENGINES]
    return _table(head, [[name] + [
        ' / '.join(f'{r["memory"][e][n]:.0f}' for n in batches)
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


def plot(rows: Dict[str, dict], batches: Sequence[int], engines: List[str],
         threads: int, path: str) -> None:
    """Latency (per image at batches above 1) of every engine, with each
    model's fp32 FLOP bound; one panel per batch size, log scale."""
    names = list(rows)
    fig, axes = plt.subplots(1, len(batches), figsize=(6.5 * len(batches),
                                                       4.5), squeeze=False)
    width = 0.8 / len(engines)
    for ax, n in zip(axes[0], batches):
        for i, engine in enumerate(engines):
            vals = [rows[m][f'{engine}_b{n}'] for m in names]
            offset = (i - (len(engines) - 1) / 2) * width
            pos = [j + offset for j in range(len(names))]
            bars = ax.bar(pos, vals, width, label=ENGINE_NAMES[engine])
            ax.bar_label(bars, fmt='%.0f', fontsize=6)
        ax.scatter(range(len(names)),
                   [rows[m]['bound_ms']['fp32'] for m in names],
                   marker='_', s=400, color='k', zorder=3,
                   label='fp32 FLOP bound (true MACs)')
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_ylabel('ms (log scale)')
        ax.set_yscale('log')
        title = 'Latency, batch 1' if n == 1 else f'Time per image, batch {n}'
        ax.set_title(f'{title}, {threads} threads')
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(res: dict, reference: str, plot_path: str) -> str:
    """The whole Markdown report (what the tool prints); draws the plot."""
    batches = res['batches']
    engines = engines_of(res)
    threads = res['threads']
    rows = summarise(res)
    start, end = res['load_start'], res['load_end']
    load = ('load average (1/5/15 min) '
            f'{start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f} at start, '
            f'{end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f} at end')
    peaks = ', '.join(f'{precision} {peak:.0f}'
                      for precision, peak in res['gemm_peaks'].items())
    sizes = {f'{s[1]}x{s[2]}' for s in res['inputs'].values()}
    paragraphs = [
        f'Machine: {res["machine"]}, {_count(threads, "thread")}; GEMM peaks '
        f'measured (GFLOP/s; int8: GOP/s) {peaks}; '
        f'{res["versions"]}; {load}; {res["contention"]}.',
        f'Medians of {_count(res["rounds"], "interleaved round")} '
        f'({_count(res["reps"], "call")} per round at batch 1, one at '
        'larger batches'
        + (', each case after one untimed call' if res.get('warm') else '')
        + '); random '
        f'weights, input {", ".join(sorted(sizes))}; ms at batch 1, ms per '
        'image at larger batches.'
    ] + [f'{ENGINE_TITLES[e]}: absent: {why}.'
         for e, why in res.get('absent', {}).items()] + res.get('notes', [])
    paragraphs += [
        latency_markdown(rows, batches, engines, res.get('absent')),
        paths_markdown(rows, batches, engines, reference),
        targets_markdown(rows, engines, res['cpu_class'])
    ]
    if any(r['memory'] for r in rows.values()):
        paragraphs.append(memory_markdown(rows, batches))
    if 'training' in res:
        paragraphs.append(
            training_markdown(res['training'], res['train_batch']))
    plot(rows, batches, engines, threads, plot_path)
    return '\n\n'.join(paragraphs) + '\n'
