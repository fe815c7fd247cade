"""MIG: mode and layout as the pool configures them."""

import pytest

from kubeforge.gpu.mig import format_mig_layout


def test_mig_mode_matches_the_pool(gpus, expected, fail_if):
    want_on = expected.mig is not None
    wrong = [g for g in gpus if g.mig is not want_on and not (g.mig is None and not want_on)]
    if not wrong:
        return
    listed = ", ".join(str(g.index) for g in wrong)
    if want_on:
        fail_if([
            f"MIG mode is off on GPU {listed}; {expected.pins} expects MIG layout {format_mig_layout(expected.mig)}; "
            "check the GPU Operator's MIG manager (nvidia.com/mig.config label) or run `nvidia-smi -mig 1` and reset"
        ])
    else:
        fail_if([f"MIG mode is on on GPU {listed}; {expected.pins} expects whole GPUs (MIG off)"])


def test_mig_layout_matches_the_pool(gpu_node, gpus, expected, fail_if):
    if expected.mig is None:
        pytest.skip("the pool does not use MIG")
    instances = gpu_node.mig_instances
    want = format_mig_layout(expected.mig)
    problems = []
    for g in gpus:
        if not g.mig:
            continue  # reported by test_mig_mode_matches_the_pool
        have = instances.get(g.index, {})
        if have != expected.mig:
            shown = format_mig_layout(have) if have else "no GPU instances"
            problems.append(f"{g.label} has MIG layout {shown}; {expected.pins} expects {want}")
    fail_if(problems)
