"""GPU machine types per target: the one table that picks machine types and sizes capacity.

Each row is a fact from the vendor's published specification, cited in ``source``.
The same rows are used to (1) pick the machine type for a GPU pool from its GPU model
and GPUs per node, (2) reject requests a target cannot satisfy at config load, and
(3) compute the cluster's GPU/CPU/memory capacity for tenant quota checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["aws", "gcp", "onprem"]

# Machines for CPU pools that do not name one: general purpose, 8 vCPUs / 32 GB, enough
# for the platform's controllers. Ref: https://aws.amazon.com/ec2/instance-types/m6i/ ;
# https://cloud.google.com/compute/docs/general-purpose-machines#e2_machine_types
DEFAULT_SYSTEM_MACHINE: dict[str, str] = {"aws": "m6i.2xlarge", "gcp": "e2-standard-8"}

_EC2_P4 = "https://aws.amazon.com/ec2/instance-types/p4/"
_EC2_SPECS = "https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html"
_GCE_A2 = "https://cloud.google.com/compute/docs/accelerator-optimized-machines#a2-vms"


@dataclass(frozen=True)
class GpuMachineType:
    target: Target
    machine_type: str
    gpu_model: str  # an id of the one GPU table, gpu-drivers/data/mig_profiles.yaml
    gpus: int
    gpu_memory_gib: int  # per GPU
    vcpus: int
    memory_gib: int
    nvswitch: bool  # HGX 8-GPU baseboard: Fabric Manager required
    efa_interfaces: int  # EC2 Elastic Fabric Adapter interfaces (0: not supported)
    accelerator: str | None  # GCE accelerator type name
    source: str


GPU_MACHINE_TYPES: tuple[GpuMachineType, ...] = (
    # p4d.24xlarge: 8x A100 40GB (320 GB HBM2), 96 vCPUs, 1152 GiB, 400 Gbps EFA over
    # 4 network cards, NVSwitch. p4de.24xlarge: the same with 8x A100 80GB (640 GB HBM2e).
    # AWS offers A100s only in these 8-GPU sizes.
    GpuMachineType("aws", "p4d.24xlarge", "a100-40gb", 8, 40, 96, 1152, True, 4, None, f"{_EC2_P4} ; {_EC2_SPECS}"),
    GpuMachineType("aws", "p4de.24xlarge", "a100-80gb", 8, 80, 96, 1152, True, 4, None, f"{_EC2_P4} ; {_EC2_SPECS}"),
    # A2 Standard (a2-highgpu-*, a2-megagpu-16g) carry A100 40GB (accelerator
    # nvidia-tesla-a100); A2 Ultra (a2-ultragpu-*) carry A100 80GB (nvidia-a100-80gb).
    # Memory is in GB as Google lists it; vCPUs and memory per the A2 table.
    GpuMachineType("gcp", "a2-highgpu-1g", "a100-40gb", 1, 40, 12, 85, False, 0, "nvidia-tesla-a100", _GCE_A2),
    GpuMachineType("gcp", "a2-highgpu-2g", "a100-40gb", 2, 40, 24, 170, False, 0, "nvidia-tesla-a100", _GCE_A2),
    GpuMachineType("gcp", "a2-highgpu-4g", "a100-40gb", 4, 40, 48, 340, False, 0, "nvidia-tesla-a100", _GCE_A2),
    GpuMachineType("gcp", "a2-highgpu-8g", "a100-40gb", 8, 40, 96, 680, True, 0, "nvidia-tesla-a100", _GCE_A2),
    GpuMachineType("gcp", "a2-megagpu-16g", "a100-40gb", 16, 40, 96, 1360, True, 0, "nvidia-tesla-a100", _GCE_A2),
    GpuMachineType("gcp", "a2-ultragpu-1g", "a100-80gb", 1, 80, 12, 170, False, 0, "nvidia-a100-80gb", _GCE_A2),
    GpuMachineType("gcp", "a2-ultragpu-2g", "a100-80gb", 2, 80, 24, 340, False, 0, "nvidia-a100-80gb", _GCE_A2),
    GpuMachineType("gcp", "a2-ultragpu-4g", "a100-80gb", 4, 80, 48, 680, False, 0, "nvidia-a100-80gb", _GCE_A2),
    GpuMachineType("gcp", "a2-ultragpu-8g", "a100-80gb", 8, 80, 96, 1360, True, 0, "nvidia-a100-80gb", _GCE_A2),
)

# On-prem A100 servers come as PCIe cards (1-8 per host) or HGX A100 4-/8-GPU boards;
# NVSwitch (and so Fabric Manager) only on the 8-GPU HGX board.
# Ref: https://docs.nvidia.com/datacenter/tesla/fabric-manager-user-guide/index.html
ONPREM_GPUS_PER_NODE: tuple[int, ...] = (1, 2, 4, 8)


def machine_types_for(target: Target, gpu_model: str) -> list[GpuMachineType]:
    return [m for m in GPU_MACHINE_TYPES if m.target == target and m.gpu_model == gpu_model]


def pick_machine_type(target: Target, gpu_model: str, gpus: int) -> GpuMachineType | None:
    """The machine type that carries exactly ``gpus`` of ``gpu_model`` on ``target``."""
    for m in machine_types_for(target, gpu_model):
        if m.gpus == gpus:
            return m
    return None


def accepted_gpus_per_node(target: Target, gpu_model: str) -> list[int]:
    if target == "onprem":
        return list(ONPREM_GPUS_PER_NODE)
    return sorted(m.gpus for m in machine_types_for(target, gpu_model))
