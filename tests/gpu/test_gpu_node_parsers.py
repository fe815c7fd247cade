"""kubeforge.gpu.node parses what real A100 nodes print (genuine captures in ../shared/reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeforge.gpu import node as smi

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "nvidia-smi"


def capture(prefix: str) -> str:
    if not REFERENCE.is_dir():
        pytest.skip(f"genuine nvidia-smi captures not available: {REFERENCE} is absent")
    matches = sorted(REFERENCE.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"no capture {prefix}_* in {REFERENCE}")
    return matches[0].read_text()


def test_cuda_and_driver_versions_are_read_from_nvidia_smi_q():
    text = capture("10")  # 8x A100-SXM4-80GB, driver 525.60.13
    assert smi.parse_cuda_version(text) == "12.0"
    assert smi.parse_driver_version(text) == "525.60.13"


def test_cuda_version_is_read_from_the_plain_table_header():
    assert smi.parse_cuda_version(capture("06")) == "11.0"


def test_mig_instances_are_counted_per_gpu_in_the_r450_layout():
    assert smi.parse_mig_instances(capture("33")) == {0: {"1g.5gb": 7}}


def test_mig_instances_are_counted_per_gpu_in_the_later_layout():
    assert smi.parse_mig_instances(capture("38")) == {0: {"3g.40gb": 2}}


def test_mig_mode_from_a_query_is_a_flag():
    assert smi.flag(capture("22").strip()) is True


def test_fabric_manager_mismatch_lines_yield_both_versions():
    assert smi.parse_fabric_manager_mismatch(capture("51")) == ("460.91.03", "460.73.01")
    assert smi.parse_fabric_manager_mismatch(capture("52")) == ("530.30.02", "530.41.03")


def test_fabric_manager_version_output_is_parsed():
    assert smi.parse_fabric_manager_version("Fabric Manager version is : 580.95.05\n") == "580.95.05"


def test_query_gpu_rows_become_typed_gpus():
    row = "3, NVIDIA A100-SXM4-80GB, 00000000:4E:00.0, 580.95.05, Disabled, Enabled, [N/A], 2, [N/A]"
    (gpu,) = smi.parse_gpus(row)
    assert (gpu.index, gpu.persistence, gpu.ecc, gpu.mig, gpu.ecc_uncorrected, gpu.retired_pages_pending) == \
        (3, False, True, None, 2, None)


def test_a_query_row_with_the_wrong_number_of_values_is_an_error():
    with pytest.raises(ValueError, match="expected 9 comma-separated values"):
        smi.parse_gpus("0, NVIDIA A100-SXM4-80GB")


def test_remapped_rows_accept_yes_no_and_numeric_flags():
    rows = smi.parse_remapped_rows("00000000:07:00.0, 0, 0, No, No\n00000000:0F:00.0, 1, 2, 1, 0\n")
    assert [(r.pending, r.failure, r.uncorrectable) for r in rows] == [(False, False, 0), (True, False, 2)]


def test_lsmod_lists_module_names_without_the_header():
    modules = smi.parse_lsmod("Module  Size  Used by\nnvidia_uvm 1 0\nnvidia 2 1 nvidia_uvm\n")
    assert modules == {"nvidia", "nvidia_uvm"}


def test_container_toolkit_version_is_parsed():
    assert smi.parse_container_toolkit_version("NVIDIA Container Toolkit CLI version 1.17.8\ncommit: abc\n") == "1.17.8"
