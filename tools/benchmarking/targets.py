"""The speed targets of docs/performance.md that one benchmark run can
decide, checked on that run's medians: PASS or MISS with the numbers, or
why the run cannot decide one (a model, path or batch size not timed, or
a CPU class the target is not stated for)."""
from typing import Dict, List, Tuple

from .analysis import CPU_CLASSES
from .engines import ENGINE_TITLES

#: The model the targets are about, and the peer it must beat.
STUDENT, PEER = 'DistilPose-S', 'RTMPose-s'
#: The most the student's fastest batch-1 path may take, as a fraction of
#: its ONNX Runtime fp32 latency, per CPU class (``analysis.cpu_class``):
#: with AMX, and with VNNI but no BF16. None is stated for the others.
BEST_VS_ORT = {'amx': 0.40, 'vnni': 0.50}


def _best(row: dict, engines: List[str]) -> Tuple[str, float]:
    engine = min(engines, key=lambda e: row[f'{e}_b1'])
    return engine, row[f'{engine}_b1']


def check_targets(rows: Dict[str, dict], engines: List[str],
                  cpu: str) -> List[Tuple[str, str, str]]:
    """(target, measured, verdict) per target; the verdict is ``PASS``,
    ``MISS`` or ``not checked: <why>``. ``rows``: ``report.summarise``'s
    (ms under ``{engine}_b{n}``); ``cpu``: a key of ``CPU_CLASSES``."""
    limit = BEST_VS_ORT.get(cpu)
    stated = ', '.join(f'{v:.2f}x with {CPU_CLASSES[k]}'
                       for k, v in BEST_VS_ORT.items())
    ratio_target = (f'{STUDENT}: fastest path at batch 1 <= {limit:.2f}x '
                    f'its ORT fp32 latency (CPU with {CPU_CLASSES[cpu]})'
                    if limit else f'{STUDENT}: fastest path at batch 1 <= '
                    f'its ORT fp32 latency times {stated}')
    peer_target = (f'{STUDENT}: fastest path at batch 1 faster than '
                   f'{PEER} eager fp32')
    student = rows.get(STUDENT)
    if student is None or f'{engines[0]}_b1' not in student:
        why = f'not checked: {STUDENT} at batch 1 was not timed'
        return [(ratio_target, '-', why), (peer_target, '-', why)]
    best, best_ms = _best(student, engines)
    measured = f'{ENGINE_TITLES[best]} {best_ms:.1f} ms'
    if limit is None:
        ratio = (ratio_target, measured, 'not checked: no target is stated '
                 f'for a CPU with {CPU_CLASSES[cpu]}')
    elif 'ort' not in engines:
        ratio = (ratio_target, measured, 'not checked: ORT fp32 not timed')
    else:
        ort_ms = student['ort_b1']
        ratio = (ratio_target, f'{measured} / ORT fp32 {ort_ms:.1f} ms = '
                 f'{best_ms / ort_ms:.3f}x',
                 'PASS' if best_ms <= limit * ort_ms else 'MISS')
    peer = rows.get(PEER)
    if peer is None or 'eager' not in engines:
        peer_check = (peer_target, measured, f'not checked: {PEER} eager '
                      'fp32 not timed')
    else:
        peer_ms = peer['eager_b1']
        peer_check = (peer_target, f'{measured} against {peer_ms:.1f} ms',
                      'PASS' if best_ms < peer_ms else 'MISS')
    return [ratio, peer_check]


def targets_markdown(rows: Dict[str, dict], engines: List[str],
                     cpu: str) -> str:
    lines = ['| Target | Measured | Verdict |', '|---|---|---|']
    for target, measured, verdict in check_targets(rows, engines, cpu):
        lines.append(f'| {target} | {measured} | **{verdict}** |')
    return '\n'.join(lines)
