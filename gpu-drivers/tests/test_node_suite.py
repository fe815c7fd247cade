"""The node validation suite, run for real against recorded nodes with planted faults.

Each test runs `pytest gpu-drivers/validate --hosts=local://` in a subprocess with PATH
pointing at fake nvidia-smi/systemctl/nv-fabricmanager/lsmod/nvidia-ctk commands
(fakenode.py) that answer from a fixture directory. The fixtures under fixtures/ are the
project's own recordings of an HGX A100 node, shaped after the genuine captures in
../shared/reference/nvidia-smi/: 8x A100-SXM4-40GB, 8x A100-SXM4-80GB, and 8x
A100-SXM4-80GB with MIG (3g.40gb, 2g.20gb, 2x 1g.10gb per GPU), driver 580.95.05.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
FIXTURES = HERE / "fixtures"
FAKE_COMMANDS = ("nvidia-smi", "systemctl", "nv-fabricmanager", "lsmod", "nvidia-ctk")
FIELDS = ("index", "name", "pci.bus_id", "driver_version", "persistence_mode", "ecc.mode.current",
          "mig.mode.current", "ecc.errors.uncorrected.volatile.total", "retired_pages.pending")

NODE_40GB = "hgx-a100-sxm4-40gb-8"
NODE_80GB = "hgx-a100-sxm4-80gb-8"
NODE_MIG = "hgx-a100-sxm4-80gb-8-mig"
MIG_LAYOUT = "3g.40gb,2g.20gb,1g.10gb*2"

OPTIONS = {
    NODE_40GB: ["--gpu-model", "a100-40gb", "--mig", "off"],
    NODE_80GB: ["--gpu-model", "a100-80gb", "--mig", "off"],
    NODE_MIG: ["--gpu-model", "a100-80gb", "--mig", MIG_LAYOUT],
}


@pytest.fixture(scope="session")
def fake_bin(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("fakebin")
    for name in FAKE_COMMANDS:
        script = directory / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fakenode.py"}" {name} "$@"\n')
        script.chmod(0o755)
    return directory


class Suite:
    def __init__(self, returncode: int, output: str):
        self.returncode = returncode
        self.output = output

    @property
    def failed(self) -> set[str]:
        return set(re.findall(r"^FAILED \S+::(test_\w+)", self.output, re.MULTILINE))


def run_suite(fake_bin: Path, node: Path, *options: str) -> Suite:
    env = dict(os.environ, FAKE_NODE_DIR=str(node), PATH=f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "gpu-drivers/validate", "--hosts=local://", "-p", "no:cacheprovider",
         "-q", "-rfE", *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return Suite(proc.returncode, proc.stdout + proc.stderr)


def node_copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def default_options(name: str) -> list[str]:
    return ["--driver", "580.95.05", "--cuda", "12.8", "--gpu-count", "8", *OPTIONS[name]]


def set_gpu_field(node: Path, gpu: int, field: str, value: str) -> None:
    path = node / "query-gpu.csv"
    lines = path.read_text().splitlines()
    cells = [c.strip() for c in lines[gpu + 1].split(",")]
    cells[FIELDS.index(field)] = value
    lines[gpu + 1] = ", ".join(cells)
    path.write_text("\n".join(lines) + "\n")


def edit(node: Path, name: str, change: Callable[[str], str]) -> None:
    path = node / name
    path.write_text(change(path.read_text()))


# -- a good node passes ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [NODE_40GB, NODE_80GB, NODE_MIG])
def test_a_good_node_passes(fake_bin, tmp_path, name):
    suite = run_suite(fake_bin, node_copy(tmp_path, name), *default_options(name))
    assert suite.returncode == 0, suite.output
    assert "passed" in suite.output


# -- every planted fault is caught, by the check meant for it, with a clear message ----------


def wrong_driver(node):
    for gpu in range(8):
        set_gpu_field(node, gpu, "driver_version", "550.127.05")


def fabric_manager_mismatch(node):
    edit(node, "nv-fabricmanager-v.txt", lambda t: t.replace("580.95.05", "580.82.07"))


def fabric_manager_stopped(node):
    edit(node, "systemctl-is-active-nvidia-fabricmanager.txt", lambda t: "failed\n")


def mig_off(node):
    for gpu in range(8):
        set_gpu_field(node, gpu, "mig.mode.current", "Disabled")
    edit(node, "mig-lgi.txt", lambda t: "No MIG-enabled devices found.\n")


def mig_layout_changed(node):
    # GPU 2 lost one of its 1g.10gb instances.
    def drop(text):
        lines = text.splitlines()
        row = next(i for i, line in enumerate(lines) if re.match(r"^\|\s+2\s+MIG 1g\.10gb", line))
        return "\n".join(lines[:row] + lines[row + 2:]) + "\n"
    edit(node, "mig-lgi.txt", drop)


def persistence_off(node):
    set_gpu_field(node, 3, "persistence_mode", "Disabled")


def ecc_off(node):
    set_gpu_field(node, 1, "ecc.mode.current", "Disabled")


def ecc_errors(node):
    set_gpu_field(node, 5, "ecc.errors.uncorrected.volatile.total", "3")


def missing_gpu(node):
    edit(node, "query-gpu.csv", lambda t: "\n".join(t.splitlines()[:-1]) + "\n")


def row_remap_pending(node):
    edit(node, "remapped-rows.csv", lambda t: t.replace("00000000:B7:00.0, 0, 0, No, No", "00000000:B7:00.0, 0, 1, Yes, No"))


def toolkit_missing(node):
    (node / "nvidia-ctk-version.txt").unlink()


def module_not_loaded(node):
    edit(node, "lsmod.txt", lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("nvidia")) + "\n")


def old_cuda(node):
    edit(node, "smi-q.txt", lambda t: t.replace("CUDA Version                              : 13.0",
                                                "CUDA Version                              : 12.4"))


FAULTS = [
    (wrong_driver, NODE_80GB, "test_driver_version_equals_the_pin",
     "driver 550.127.05 on the node, --driver pins 580.95.05"),
    (fabric_manager_mismatch, NODE_80GB, "test_fabric_manager_version_equals_the_driver",
     "Fabric Manager 580.82.07 on the node, driver 580.95.05: they must be the same version"),
    (fabric_manager_stopped, NODE_40GB, "test_fabric_manager_runs_where_required",
     "nvidia-fabricmanager is failed on an NVSwitch node"),
    (mig_off, NODE_MIG, "test_mig_mode_matches_the_pool",
     "MIG mode is off on GPU 0, 1, 2, 3, 4, 5, 6, 7; --driver expects MIG layout 3g.40gb,2g.20gb,1g.10gb*2"),
    (mig_layout_changed, NODE_MIG, "test_mig_layout_matches_the_pool",
     "GPU 2 (00000000:47:00.0) has MIG layout 3g.40gb,2g.20gb,1g.10gb; --driver expects 3g.40gb,2g.20gb,1g.10gb*2"),
    (persistence_off, NODE_80GB, "test_persistence_mode_is_on",
     "persistence mode is off on GPU 3 (00000000:4E:00.0)"),
    (ecc_off, NODE_40GB, "test_ecc_is_on", "ECC is off on GPU 1 (00000000:0F:00.0)"),
    (ecc_errors, NODE_80GB, "test_uncorrected_ecc_errors_are_under_the_threshold",
     "GPU 5 (00000000:90:00.0) has 3 uncorrected ECC errors since the driver loaded; the pool allows 0"),
    (missing_gpu, NODE_80GB, "test_gpu_count_matches_the_pool", "7 GPUs visible on the node, --driver expects 8"),
    (row_remap_pending, NODE_80GB, "test_no_row_remapping_is_pending_or_has_failed",
     "GPU 00000000:B7:00.0 has a row remapping pending"),
    (toolkit_missing, NODE_40GB, "test_nvidia_container_toolkit_is_installed",
     "nvidia-container-toolkit is not installed on the node"),
    (module_not_loaded, NODE_40GB, "test_nvidia_kernel_module_is_loaded", "kernel module nvidia is not loaded"),
    (old_cuda, NODE_80GB, "test_cuda_version_reported_by_nvidia_smi_reaches_the_minimum",
     "nvidia-smi reports CUDA 12.4 on the node; --driver needs CUDA 12.8 or newer"),
]


@pytest.mark.parametrize(("plant", "name", "check", "message"), FAULTS, ids=[f[0].__name__ for f in FAULTS])
def test_a_planted_fault_is_caught_with_a_clear_message(fake_bin, tmp_path, plant, name, check, message):
    node = node_copy(tmp_path, name)
    plant(node)
    suite = run_suite(fake_bin, node, *default_options(name))
    assert suite.returncode == 1, suite.output
    assert check in suite.failed, suite.output
    assert message in suite.output
    assert "Traceback" not in suite.output


def test_a_node_with_the_wrong_gpu_model_fails_the_model_check(fake_bin, tmp_path):
    options = ["--driver", "580.95.05", "--gpu-count", "8", "--gpu-model", "a100-80gb"]
    suite = run_suite(fake_bin, node_copy(tmp_path, NODE_40GB), *options)
    assert "test_every_gpu_is_the_expected_model" in suite.failed, suite.output
    assert "GPU 0 (00000000:07:00.0) is NVIDIA A100-SXM4-40GB, --driver expects a100-80gb" in suite.output


# -- how the suite is started -------------------------------------------------------------------


def test_naming_the_suite_without_a_host_is_a_usage_error_pointing_at_the_readme():
    proc = subprocess.run([sys.executable, "-m", "pytest", "gpu-drivers/validate", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4
    assert "give it one with --hosts" in proc.stderr and "gpu-drivers/README.md" in proc.stderr


def test_a_host_without_expectations_is_a_usage_error(fake_bin, tmp_path):
    suite = run_suite(fake_bin, node_copy(tmp_path, NODE_40GB))
    assert suite.returncode == 4
    assert "pass --driver (e.g. 580.95.05), or --stack and --pool" in suite.output


def test_an_impossible_mig_expectation_is_rejected_before_touching_the_node(fake_bin, tmp_path):
    suite = run_suite(fake_bin, node_copy(tmp_path, NODE_MIG), "--driver", "580.95.05",
                      "--gpu-model", "a100-80gb", "--mig", "3g.40gb*3")
    assert suite.returncode == 4
    assert "at most 2 fit on one GPU" in suite.output
