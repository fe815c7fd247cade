"""The GPUs: model, count, persistence mode, ECC, and memory health."""

import pytest


def test_gpu_count_matches_the_pool(gpus, expected, fail_if):
    if expected.gpu_count is None:
        pytest.skip("no GPU count given (--gpu-count, or --stack/--pool)")
    if len(gpus) != expected.gpu_count:
        seen = ", ".join(g.bus_id for g in gpus) or "none"
        fail_if([
            f"{len(gpus)} GPUs visible on the node, {expected.pins} expects {expected.gpu_count} "
            f"(visible: {seen}); a GPU has fallen off the bus or failed to initialise, see `dmesg | grep -i xid`"
        ])


def test_every_gpu_is_the_expected_model(gpus, expected, fail_if):
    names = expected.accepted_names()
    if names is None:
        pytest.skip("no GPU model given (--gpu-model, or --stack/--pool)")
    fail_if([
        f"{g.label} is {g.name}, {expected.pins} expects {expected.gpu_model} ({' or '.join(names)})"
        for g in gpus if g.name not in names
    ])


def test_persistence_mode_is_on(gpus, fail_if):
    fail_if([
        f"persistence mode is off on {g.label}; enable the nvidia-persistenced service"
        for g in gpus if g.persistence is not True
    ])


def test_ecc_is_on(gpus, fail_if):
    fail_if([
        f"ECC is off on {g.label}; enable it with `nvidia-smi -i {g.index} -e 1` and reset the GPU"
        for g in gpus if g.ecc is not True
    ])


def test_uncorrected_ecc_errors_are_under_the_threshold(gpus, expected, fail_if):
    limit = expected.ecc_uncorrected_max
    fail_if([
        f"{g.label} has {g.ecc_uncorrected} uncorrected ECC errors since the driver loaded; the pool allows {limit}; "
        "drain the node and have the GPU checked"
        for g in gpus if g.ecc_uncorrected is not None and g.ecc_uncorrected > limit
    ])


def test_no_row_remapping_is_pending_or_has_failed(gpu_node, gpus, fail_if):
    # A100 repairs HBM by row remapping, not page retirement (see kubeforge.gpu.node).
    rows = gpu_node.remapped_rows
    if rows is None:
        pytest.skip("nvidia-smi cannot report remapped rows here (not supported, or MIG instances are active)")
    problems = []
    for r in rows:
        if r.pending:
            problems.append(f"GPU {r.bus_id} has a row remapping pending; reset the GPU (or reboot the node) to apply it")
        if r.failure:
            problems.append(f"GPU {r.bus_id} has failed to remap a row; it has no spare rows left, replace the GPU")
    fail_if(problems)


def test_no_retired_pages_are_pending(gpus, fail_if):
    # Reads N/A on A100, which uses row remapping; kept for GPUs that retire pages.
    fail_if([
        f"{g.label} has retired pages pending; reset the GPU (or reboot the node) to retire them"
        for g in gpus if g.retired_pages_pending
    ])
