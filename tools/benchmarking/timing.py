"""Timing on a shared machine: calls are timed only while other processes
leave the CPUs idle, and cases run in interleaved rounds so that slow drift
hits every case alike."""
import os
import time
from typing import Callable, Dict, List, Optional, Tuple


def timed(fn: Callable[[], object]) -> float:
    """Seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_seconds() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open('/proc/stat') as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    hz = os.sysconf('SC_CLK_TCK')
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


def others_busy(fn: Callable[[], object]) -> Tuple[object, float]:
    """``fn()`` and the fraction of the machine's CPU time that other
    processes used meanwhile (ours, spinning threads included, is
    subtracted)."""
    busy0, total0 = cpu_seconds()
    own0 = sum(os.times()[:2])
    out = fn()
    busy1, total1 = cpu_seconds()
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
    kept and counted. ``max_wait=0`` times without any check.

    The wait leaves caches and clocks cold: the first call after it was
    measured 1.1-1.3x slower than the next ones, on ONNX Runtime and
    OpenVINO alike (docs/deployment.md), so by default one untimed call
    follows each wait and every timed call is a warm one, as in a stream
    of requests (``warm=False`` for calls of seconds, e.g. training
    steps).
    """

    def __init__(self, max_wait: float, retries: int = 3,
                 busy_limit: float = 0.1):
        self.max_wait, self.retries = max_wait, retries
        self.busy_limit = busy_limit
        self.cases = self.repeated = self.contended = 0
        self.waited = 0.

    def _wait(self, deadline: float) -> None:
        start = time.monotonic()
        while time.monotonic() < deadline and others_busy(
                lambda: time.sleep(0.25))[1] > self.busy_limit:
            pass
        self.waited += time.monotonic() - start

    def __call__(self, fn: Callable[[], object], reps: int = 1,
                 warm: bool = True) -> List[float]:
        """Seconds of ``reps`` calls of ``fn`` in a row."""
        if self.max_wait <= 0:
            return [timed(fn) for _ in range(reps)]
        self.cases += 1
        deadline = time.monotonic() + self.max_wait
        for attempt in range(self.retries + 1):
            self._wait(deadline)
            if warm:
                fn()
            times, others = others_busy(
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
                reps: Optional[Dict[str, int]] = None,
                warm: bool = True) -> Dict[str, List[float]]:
    """Seconds per call of each runner: one warm-up call each, then
    ``rounds`` rounds in which every runner is called ``reps[key]`` times
    (default once) in a row; the order rotates by one each round. ``warm``
    as in :class:`QuietTimer`."""
    reps = reps or {}
    for fn in runners.values():
        fn()
    keys = list(runners)
    samples = {k: [] for k in keys}
    for r in range(rounds):
        shift = r % len(keys)
        for k in keys[shift:] + keys[:shift]:
            samples[k] += timer(runners[k], reps.get(k, 1), warm)
        print(f'  round {r + 1}/{rounds} done', flush=True)
    return samples
