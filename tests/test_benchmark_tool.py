"""``tools/benchmark.py`` runs on a fresh set-up and prints its table."""
import os.path as osp
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_prints_table_targets_and_plot(tmp_path):
    out = str(tmp_path / 'bench')
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'benchmark.py'), '--quick', '--out', out,
        '--models', 'DistilPose-S', 'TokenPose teacher', 'RTMPose-s',
        '--no-memory', '--max-wait', '0'
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = open(osp.join(out, 'benchmark.md')).read()
    rows = [line for line in text.splitlines() if line.startswith('| ')]
    models = [r.split('|')[1].strip().strip('*') for r in rows[1:4]]
    assert models == ['DistilPose-S', 'TokenPose teacher', 'RTMPose-s']
    # Every latency cell of the three models is a positive number.
    for row in rows[1:4]:
        eager_b1, ort_b1 = (float(c) for c in row.split('|')[5:7])
        assert eager_b1 > 0 and ort_b1 > 0
    assert '| distillation step |' in text
    assert text.count('- [') == 5  # the five targets, each ticked or not
    assert osp.getsize(osp.join(out, 'benchmark.png')) > 0
    assert text in proc.stdout
