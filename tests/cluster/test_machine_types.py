"""The machine-type table agrees with the vendors' published A100 machine families."""

from __future__ import annotations

import pytest

from kubeforge.machines import GPU_MACHINE_TYPES, accepted_gpus_per_node, pick_machine_type


def test_aws_offers_a100s_only_as_eight_gpu_p4_instances():
    # https://aws.amazon.com/ec2/instance-types/p4/: p4d (A100 40GB), p4de (A100 80GB), 8 GPUs,
    # 96 vCPUs, 1152 GiB, NVSwitch, 4 EFA-capable network cards.
    aws = {m.machine_type: m for m in GPU_MACHINE_TYPES if m.target == "aws"}
    assert set(aws) == {"p4d.24xlarge", "p4de.24xlarge"}
    for m in aws.values():
        assert (m.gpus, m.vcpus, m.memory_gib, m.nvswitch, m.efa_interfaces) == (8, 96, 1152, True, 4)
    assert (aws["p4d.24xlarge"].gpu_model, aws["p4de.24xlarge"].gpu_model) == ("a100-40gb", "a100-80gb")


@pytest.mark.parametrize("family,model,accelerator,gb_per_gpu", [
    ("a2-highgpu", "a100-40gb", "nvidia-tesla-a100", 85),
    ("a2-ultragpu", "a100-80gb", "nvidia-a100-80gb", 170),
])
def test_gce_a2_shapes_scale_12_vcpus_and_fixed_memory_per_gpu(family, model, accelerator, gb_per_gpu):
    # https://cloud.google.com/compute/docs/accelerator-optimized-machines#a2-vms
    rows = [m for m in GPU_MACHINE_TYPES if m.machine_type.startswith(family)]
    assert sorted(m.gpus for m in rows) == [1, 2, 4, 8]
    for m in rows:
        assert m.machine_type == f"{family}-{m.gpus}g"
        assert (m.gpu_model, m.accelerator) == (model, accelerator)
        assert m.vcpus == 12 * m.gpus
        assert m.memory_gib == gb_per_gpu * m.gpus


def test_a2_megagpu_is_sixteen_a100_40gb():
    m = pick_machine_type("gcp", "a100-40gb", 16)
    assert (m.machine_type, m.vcpus, m.memory_gib) == ("a2-megagpu-16g", 96, 1360)


def test_gpu_memory_matches_the_model():
    for m in GPU_MACHINE_TYPES:
        assert m.gpu_memory_gib == int(m.gpu_model.split("-")[1].removesuffix("gb"))


def test_impossible_requests_have_no_machine():
    assert pick_machine_type("aws", "a100-80gb", 4) is None
    assert pick_machine_type("gcp", "a100-80gb", 16) is None
    assert accepted_gpus_per_node("aws", "a100-40gb") == [8]
