"""The offline engine records the program's whole graph as the Pulumi engine would see it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pulumi.runtime.mocks
import pulumi.runtime.rpc
import pulumi.runtime.settings
import pytest

from kubeforge.engine import SECRET, run_program
from tests.conftest import ROOT

STACK_URN = "urn:pulumi:local::kubeforge::pulumi:pulumi:Stack::kubeforge-local"
PLATFORM_URN = "urn:pulumi:local::kubeforge::kubeforge:platform:Platform::kubeforge"


def test_sdk_internals_the_engine_relies_on_are_present():
    """If a Pulumi SDK upgrade moves these, the engine must be revisited (pyproject pins the SDK)."""
    assert hasattr(pulumi.runtime.mocks.MockMonitor, "RegisterResource")
    assert hasattr(pulumi.runtime.mocks.MockMonitor, "RegisterResourceOutputs")
    assert hasattr(pulumi.runtime.mocks, "MockSettings")
    assert hasattr(pulumi.runtime.settings, "reset_options")
    assert pulumi.runtime.rpc._special_secret_sig == "1b47061264138c4ac30d75fd1eb44270"
    assert pulumi.runtime.rpc._special_resource_sig == "5cf8f73096256a8f31e491e813e4eb8e"


def test_every_resource_has_the_recorded_fields(local_graph):
    doc = json.loads(local_graph.to_json())
    assert doc["resources"]
    for resource in doc["resources"]:
        assert set(resource) >= {"urn", "type", "name", "parent", "dependencies", "provider", "inputs", "options"}
        assert set(resource["options"]) >= {"protect", "retainOnDelete", "ignoreChanges", "deleteBeforeReplace"}


def test_urns_carry_the_whole_parent_type_chain(local_graph):
    quota = local_graph.named("tenant-speech-ai-quota")
    assert quota.urn == (
        "urn:pulumi:local::kubeforge::kubeforge:platform:Platform$kubeforge:tenancy:TenantNamespace"
        "$kubernetes:core/v1:ResourceQuota::tenant-speech-ai-quota"
    )


def test_components_are_parented_under_the_platform_and_the_stack(local_graph):
    assert local_graph.named("kubeforge").parent == STACK_URN
    assert local_graph.named("tenant-speech-ai").parent == PLATFORM_URN
    quota = local_graph.named("tenant-speech-ai-quota")
    assert quota.parent == local_graph.named("tenant-speech-ai").urn


def test_every_kubernetes_resource_uses_the_cluster_provider(local_graph):
    provider = local_graph.named("cluster-k8s")
    assert provider.type == "pulumi:providers:kubernetes"
    k8s = [r for r in local_graph.ordered() if r.type.startswith("kubernetes:")]
    assert k8s
    assert {r.provider for r in k8s} == {provider.urn}


def test_dependencies_are_recorded(local_graph):
    namespace = local_graph.named("tenant-speech-ai-namespace")
    quota = local_graph.named("tenant-speech-ai-quota")
    assert namespace.urn in quota.dependencies


def test_options_are_recorded(local_graph):
    assert local_graph.named("tenant-speech-ai-namespace").options["protect"] is True
    assert local_graph.named("tenant-speech-ai-quota").options["protect"] is False
    assert local_graph.named("cluster-a100-gpu-node-1").options["retainOnDelete"] is True


def test_inputs_are_camel_case_as_the_engine_sees_them(local_graph):
    limits = local_graph.named("tenant-speech-ai-defaults").inputs["spec"]["limits"][0]
    assert limits["defaultRequest"] == {"cpu": "500m", "memory": "1Gi"}
    binding = local_graph.named("tenant-speech-ai-owner").inputs
    assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"


def test_stack_outputs_are_recorded(local_graph):
    assert local_graph.outputs["tenantNamespaces"] == {t: t for t in ("speech-ai", "vision", "forecasting")}


def test_secret_config_stays_secret_in_inputs_and_outputs(project, onprem_platform, tenant_spec):
    token = "kubeforge-test-token-do-not-print"
    kubeconfig = f"apiVersion: v1\nkind: Config\nusers: [{{name: admin, user: {{token: {token}}}}}]\n"
    project.stack(onprem_platform, extra={"kubeforge:kubeconfig": kubeconfig}).tenant("team-a", tenant_spec)
    graph = project.preview()
    text = graph.to_json()
    assert token not in text
    assert graph.named("cluster-k8s").inputs["kubeconfig"] == SECRET
    assert graph.outputs["kubeconfig"] == SECRET


def test_encrypted_config_values_are_secret_offline(project, onprem_platform, tenant_spec):
    project.stack(onprem_platform, extra={"kubeforge:kubeconfig": {"secure": "AAABAGVuY3J5cHRlZA=="}})
    project.tenant("team-a", tenant_spec)
    graph = project.preview()
    assert graph.named("cluster-k8s").inputs["kubeconfig"] == SECRET
    assert "AAABAGVuY3J5cHRlZA" not in graph.to_json()


def test_runs_are_isolated_from_each_other(project, onprem_platform, tenant_spec):
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    first, second = project.preview(), project.preview()
    assert first.to_json() == second.to_json()


@pytest.mark.parametrize("stack", ["local", "aws-prod", "gcp-prod"])
def test_json_is_byte_identical_across_processes_and_hash_seeds(tmp_path, stack):
    outputs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"g-{seed}.json"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run(
            [sys.executable, "-m", "kubeforge.cli", "preview", "--stack", stack, "--json", str(out)],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_program_errors_become_one_message(project, onprem_platform, tenant_spec, monkeypatch):
    from kubeforge.engine import EngineError

    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    (project.path / "__main__.py").unlink()
    (project.path / "__main__.py").write_text("raise RuntimeError('component exploded')\n")
    with pytest.raises(EngineError, match="component exploded"):
        run_program(project.path, "test", {"kubeforge:platform": onprem_platform})


@pytest.mark.parametrize("graph_fixture", ["local_graph", "aws_graph", "gcp_graph"])
def test_no_resource_falls_back_to_a_default_provider(request, graph_fixture):
    """Every cloud and Kubernetes resource names its explicit provider: nothing depends on
    ambient credentials, regions or kubeconfig contexts of the machine running `pulumi up`."""
    graph = request.getfixturevalue(graph_fixture)
    # pulumi_random has no configuration and runs where Pulumi runs: its default provider is right.
    custom = [r for r in graph.ordered() if r.custom and not r.type.startswith(("pulumi:providers:", "random:"))]
    assert custom
    assert [r.urn for r in custom if r.provider is None] == []


def test_a_preview_leaves_no_event_loop_open():
    """The SDK's mock opens an event loop per worker thread; the engine closes them, so the
    interpreter never prints a traceback for one at exit."""
    import asyncio
    import gc

    from kubeforge.config.loader import read_stack_config
    from tests.conftest import ROOT

    run_program(ROOT, "local", read_stack_config(ROOT, "local"))
    gc.collect()
    open_loops = [o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()
                  and not o.is_running()]
    assert open_loops == []
