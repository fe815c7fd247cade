"""Fabric Manager on NVSwitch (HGX A100 8-GPU) nodes: running, at exactly the driver's version.

On A100, `nvidia-smi -q` shows Fabric State "N/A" even with Fabric Manager running, so the
service and `nv-fabricmanager -v` are checked instead (gpu-drivers/data/fabric_manager.yaml).
"""

import pytest

from kubeforge.gpu import node as smi


@pytest.fixture
def required(gpus, expected) -> bool:
    return expected.fabric_manager_required([g.name for g in gpus])


def test_fabric_manager_runs_where_required(gpu_node, required, expected, fail_if):
    state = gpu_node.fabric_manager_state
    if required and state != "active":
        fail_if([
            f"nvidia-fabricmanager is {state} on an NVSwitch node; CUDA will fail with error 802 "
            f"(system not yet initialized); install Fabric Manager {expected.driver} and enable the service"
        ])
    if not required and expected.fabric_manager == "absent" and state == "active":
        fail_if(["nvidia-fabricmanager is active on a node that has no NVSwitch; disable it"])


def test_fabric_manager_version_equals_the_driver(gpu_node, gpus, required, fail_if):
    if not required:
        pytest.skip("not an NVSwitch node: Fabric Manager is not required")
    rc, output = gpu_node.fabric_manager_version
    version = smi.parse_fabric_manager_version(output)
    drivers = sorted({g.driver for g in gpus})
    if rc != 0 or version is None:
        fail_if([f"`nv-fabricmanager -v` failed on the node (exit {rc}); install Fabric Manager {', '.join(drivers)}"])
    fail_if([
        f"Fabric Manager {version} on the node, driver {d}: they must be the same version; "
        f"install Fabric Manager {d} (or the driver that matches it)"
        for d in drivers if d != version
    ])
