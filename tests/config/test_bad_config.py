"""Every bad value fails at load time: exit 2, one message naming file, key path and value."""

from __future__ import annotations

import json

import pytest

from kubeforge.cli import main
from kubeforge.config.loader import load_stack
from kubeforge.engine import EngineError


def _run(capsys, project, *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(project.path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _break(platform, path: str, value):
    """Set platform[path] (dotted; [n] for list items) to value; a value of ... deletes it."""
    node = platform
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    if value is ...:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value


# (id, change to the platform, change to the tenant file, expected fragments of the message)
PLATFORM_CASES = [
    ("wrong-type", "kubernetesVersion", 1.34, ["kubeforge:platform.kubernetesVersion", '"1.34"', "(got 1.34)"]),
    ("unsupported-k8s", "kubernetesVersion", "1.29",
     ["kubeforge:platform.kubernetesVersion", "accepted: 1.32, 1.33, 1.34", "'1.29'"]),
    ("unknown-target", "target", "azure", ["kubeforge:platform.target", "'aws', 'gcp' or 'onprem'", "'azure'"]),
    ("unknown-release", "release", "2019.01", ["kubeforge:platform.release", "accepted: 2026.11", "'2019.01'"]),
    ("tenant-not-dns-label", "tenants", ["Team_A"], ["kubeforge:platform.tenants[0]", "DNS-1123", "'Team_A'"]),
    ("duplicate-tenant", "tenants", ["team-a", "team-a"], ["kubeforge:platform.tenants", "listed twice"]),
    ("missing-tenant-file", "tenants", ["team-a", "team-b"],
     ["kubeforge:platform.tenants", "stacks/tenants/team-b.yaml does not exist", "'team-b'"]),
    ("impossible-gpus-per-node", "nodePools.a100.gpu.perNode", 3,
     ["kubeforge:platform.nodePools.a100.gpu.perNode", "accepted: 1, 2, 4, 8", "(got 3)"]),
    ("unknown-gpu-model", "nodePools.a100.gpu.model", "h100",
     ["kubeforge:platform.nodePools.a100.gpu.model", "'a100-40gb' or 'a100-80gb'", "'h100'"]),
    ("gpu-pool-without-driver", "nodePools.a100.driver", ..., ["kubeforge:platform.nodePools.a100", "pin its NVIDIA driver"]),
    ("bad-driver-syntax", "nodePools.a100.driver", "latest",
     ["kubeforge:platform.nodePools.a100.driver", "exact NVIDIA driver version", "'latest'"]),
    ("negative-min", "nodePools.a100.min", -1, ["kubeforge:platform.nodePools.a100.min", "greater than or equal to 0"]),
    ("pool-name-not-dns-label", "nodePools", {"A100": {"min": 0}}, ["kubeforge:platform.nodePools.A100", "DNS-1123"]),
    ("other-target-settings", "aws", {"region": "us-west-2"}, ["kubeforge:platform", "settings for aws are given"]),
    ("onprem-nas-without-nfs", "storage.file", {}, ["kubeforge:platform.storage.file.nfs", "NFS export"]),
]


@pytest.mark.parametrize(
    "path,value,fragments", [c[1:] for c in PLATFORM_CASES], ids=[c[0] for c in PLATFORM_CASES]
)
def test_bad_platform_value_is_one_message_with_key_path_and_exit_2(
    capsys, project, onprem_platform, tenant_spec, path, value, fragments
):
    _break(onprem_platform, path, value)
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, out, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert err.startswith("error: stacks/Pulumi.test.yaml")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_unknown_key_is_named_with_a_suggestion(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["gpu"]["perNod"] = 8
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "kubeforge:platform.nodePools.a100.gpu.perNod: unknown key" in err
    assert "did you mean 'perNode'?" in err


def test_unknown_config_key_in_kubeforge_namespace_is_rejected(capsys, project, onprem_platform, tenant_spec):
    project.stack(onprem_platform, extra={"kubeforge:kubeconfg": "x"}).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "kubeforge:kubeconfg: unknown config key" in err


def test_malformed_yaml_names_file_line_and_column(capsys, project):
    project.stack(None, raw="config:\n  kubeforge:platform:\n    target: [onprem\n")
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert err.startswith("error: stacks/Pulumi.test.yaml:4:1: malformed YAML")


def test_duplicate_yaml_key_is_rejected_not_silently_overwritten(capsys, project):
    project.stack(None, raw="config:\n  kubeforge:platform:\n    target: aws\n    target: onprem\n")
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "stacks/Pulumi.test.yaml:4:5: duplicate key (first at line 3, column 5)" in err
    assert "(got 'target')" in err


def test_missing_stack_lists_the_stacks_there_are(capsys, project, onprem_platform):
    project.stack(onprem_platform, name="dev")
    code, _, err = _run(capsys, project, "validate", "--stack", "prod")
    assert code == 2
    assert "stacks/Pulumi.prod.yaml: no such stack; stacks here: dev" in err


TENANT_CASES = [
    ("negative-quota", ("quota", "cpu"), -4, "quota.cpu: must not be negative (got -4)"),
    ("negative-gpu-quota", ("quota", "gpu"), -1, "quota.gpu: must be greater than or equal to 0 (got -1)"),
    ("bad-memory-quantity", ("quota", "memory"), "lots", "quota.memory: must be a non-negative Kubernetes quantity"),
    ("bad-owner", ("owner",), "alice", "owner: must be an e-mail address"),
    ("unknown-role", ("contributors",), [{"user": "bob@example.com", "role": "root"}],
     "contributors[0].role: must be 'edit' or 'view' (got 'root')"),
    ("guarantee-over-quota", ("queue", "guaranteedGpus"), 9, "queue.guaranteedGpus: exceeds quota.gpu (8)"),
    ("quota-over-capacity", ("quota", "gpu"), 32,
     "quota.gpu: exceeds the cluster's GPU capacity of 16 (max nodes x GPUs per node: a100 16) (got 32)"),
]


@pytest.mark.parametrize("keys,value,fragment", [c[1:] for c in TENANT_CASES], ids=[c[0] for c in TENANT_CASES])
def test_bad_tenant_value_names_the_tenant_file_and_key(
    capsys, project, onprem_platform, tenant_spec, keys, value, fragment
):
    node = tenant_spec
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert err.startswith("error: stacks/tenants/team-a.yaml: ")
    assert fragment in err
    assert "Traceback" not in err


def test_guarantees_beyond_cluster_capacity_are_rejected(project, onprem_platform, tenant_spec):
    onprem_platform["tenants"] = ["team-a", "team-b", "team-c", "team-d", "team-e"]
    project.stack(onprem_platform)
    for name in onprem_platform["tenants"]:
        project.tenant(name, tenant_spec)
    with pytest.raises(Exception) as info:
        load_stack("test", project.path)
    assert "guaranteedGpus add up to 20 (" in str(info.value)
    assert "more than the 16 GPUs the pools provide (a100 16)" in str(info.value)


def test_bad_config_registers_no_resource_in_preview(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["target"] = "azure"
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    graph_file = project.path / "g.json"
    code, out, err = _run(capsys, project, "preview", "--stack", "test", "--json", str(graph_file))
    assert code == 2
    assert not graph_file.exists()
    assert out == ""


def test_bad_config_under_pulumi_fails_before_any_resource(project, onprem_platform, tenant_spec):
    """The program itself (as `pulumi up` runs it) refuses bad config before registering anything."""
    onprem_platform["nodePools"]["a100"]["gpu"]["perNode"] = 3
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(EngineError) as info:
        project.preview()
    assert "kubeforge:platform.nodePools.a100.gpu.perNode" in str(info.value)
    registered = [r.type for r in info.value.graph.resources.values()]
    assert registered == ["pulumi:pulumi:Stack"]


def test_valid_stack_reports_what_it_describes(capsys, project, onprem_platform, tenant_spec):
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, out, err = _run(capsys, project, "validate", "--stack", "test")
    assert (code, err) == (0, "")
    assert "valid (onprem, Kubernetes 1.34, release 2026.11, 1 node pools, 16 GPUs max, 1 tenants)" in out


def test_onprem_settings_block_may_be_omitted(project, onprem_platform, tenant_spec):
    del onprem_platform["onprem"]
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    assert load_stack("test", project.path).target == "onprem"


def test_every_shipped_stack_validates():
    from kubeforge.config.loader import available_stacks
    from tests.conftest import ROOT

    stacks = available_stacks(ROOT)
    assert "local" in stacks
    for stack in stacks:
        load_stack(stack, ROOT)


def test_config_json_round_trip_matches_file(project, onprem_platform, tenant_spec):
    """The engine hands the program config as the Pulumi CLI does: JSON strings."""
    from kubeforge.engine.runtime import pulumi_config_map

    values, secrets = pulumi_config_map({"kubeforge:platform": onprem_platform, "kubeforge:kubeconfig": {"secure": "x"}})
    assert json.loads(values["kubeforge:platform"]) == onprem_platform
    assert secrets == ["kubeforge:kubeconfig"]


def test_pool_driver_too_old_for_the_catalog_images_is_rejected_with_the_fix(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["driver"] = "550.127.05"
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "kubeforge:platform.nodePools.a100.driver: " in err
    assert "CUDA 12.8 needs driver >= 570.26" in err
    assert "pin R580" in err


def test_end_of_life_branch_can_be_allowed_explicitly_but_cuda_still_applies(project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"].update(driver="550.127.05", allowEolDriver=True)
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(Exception) as info:
        load_stack("test", project.path)
    assert "end of life" not in str(info.value).split("CUDA")[0]
    assert "CUDA 12.8 needs driver >= 570.26" in str(info.value)


def test_invalid_mig_layout_is_rejected_at_load(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["gpu"]["mig"] = {"layout": "4g.40gb,4g.40gb"}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "kubeforge:platform.nodePools.a100.gpu.mig.layout: " in err


def test_valid_mig_layout_is_accepted(project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["gpu"]["mig"] = {"strategy": "mixed", "layout": "3g.40gb,2g.20gb,1g.10gb"}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    assert load_stack("test", project.path).gpu_pools["a100"].mig.layout == "3g.40gb,2g.20gb,1g.10gb"


def test_a_kubeconfig_on_a_cloud_stack_is_rejected_not_ignored(capsys, project, tenant_spec):
    from tests.conftest import stack_file

    platform = stack_file("aws-prod")
    platform["tenants"] = ["team-a"]
    project.stack(platform, extra={"kubeforge:kubeconfig": {"secure": "AAAB"}}).tenant("team-a", tenant_spec)
    code, _, err = _run(capsys, project, "validate", "--stack", "test")
    assert code == 2
    assert "stacks/Pulumi.test.yaml: kubeforge:kubeconfig: only used with target onprem" in err
