"""`kubeforge gpu check` and `kubeforge gpu matrix`, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kubeforge_gpu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubeforge.gpu.cli", "gpu", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_check_exits_0_for_a_compatible_pair():
    proc = kubeforge_gpu("check", "--driver", "580.95.05", "--cuda", "12.8", "--gpu", "a100-80gb",
                         "--today", "2026-11-23")
    assert proc.returncode == 0
    assert "compatible: driver 580.95.05 runs CUDA 12.8" in proc.stdout


def test_check_exits_1_with_the_rule_and_fix_for_an_incompatible_pair():
    proc = kubeforge_gpu("check", "--driver", "550.127.05", "--cuda", "12.8", "--pool", "a100",
                         "--today", "2026-11-23")
    assert proc.returncode == 1
    assert "CUDA 12.8 needs driver >= 570.26; pool a100 pins 550.127.05 (R550, end of life); pin R580" in proc.stdout


def test_check_exits_1_for_an_invalid_mig_layout():
    proc = kubeforge_gpu("check", "--driver", "580.95.05", "--cuda", "12.8", "--gpu", "a100-40gb",
                         "--mig", "3g.20gb*3", "--today", "2026-11-23")
    assert proc.returncode == 1 and "at most 2 fit on one GPU" in proc.stdout


def test_check_exits_2_without_a_traceback_for_a_malformed_version():
    proc = kubeforge_gpu("check", "--driver", "58O.95.05", "--cuda", "12.8")
    assert proc.returncode == 2
    assert "not a driver version" in proc.stderr and "Traceback" not in proc.stderr


def test_check_exits_2_for_a_missing_argument():
    assert kubeforge_gpu("check", "--cuda", "12.8").returncode == 2


def test_allow_eol_turns_an_end_of_life_error_into_a_warning():
    proc = kubeforge_gpu("check", "--driver", "535.261.03", "--cuda", "12.2", "--allow-eol", "--today", "2026-11-23")
    assert proc.returncode == 0 and "warning:" in proc.stdout


def test_matrix_prints_branches_and_cuda_minimums():
    proc = kubeforge_gpu("matrix", "--today", "2026-11-23")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.split()[:4] == ["R580", "LTSB", "2028-06", "supported"] for line in lines)
    assert any(line.split()[:2] == ["12.8", "570.26"] for line in lines)


def test_check_exits_1_when_the_single_mig_strategy_gets_a_mixed_layout():
    proc = kubeforge_gpu("check", "--driver", "580.95.05", "--cuda", "12.8", "--gpu", "a100-80gb",
                         "--mig", "3g.40gb,2g.20gb,1g.10gb*2", "--mig-strategy", "single", "--today", "2026-11-23")
    assert proc.returncode == 1
    assert "error: MIG strategy single needs every MIG device on the node to be the same profile" in proc.stdout


def test_check_exits_0_when_the_single_mig_strategy_gets_one_profile():
    proc = kubeforge_gpu("check", "--driver", "580.95.05", "--cuda", "12.8", "--gpu", "a100-80gb",
                         "--mig", "1g.10gb*7", "--mig-strategy", "single", "--today", "2026-11-23")
    assert proc.returncode == 0 and "compatible:" in proc.stdout


def test_check_exits_2_for_a_mig_strategy_other_than_single_or_mixed():
    proc = kubeforge_gpu("check", "--driver", "580.95.05", "--cuda", "12.8", "--gpu", "a100-80gb",
                         "--mig", "1g.10gb*7", "--mig-strategy", "none")
    assert proc.returncode == 2 and "invalid choice: 'none'" in proc.stderr
