"""local (on-prem): an existing cluster, its named GPU nodes labelled and tainted."""

from __future__ import annotations

import pytest

from kubeforge.config import load_stack
from kubeforge.errors import ConfigError


def test_named_gpu_nodes_get_gpu_labels_and_the_gpu_taint(local_graph):
    patches = local_graph.of_type("kubernetes:core/v1:NodePatch")
    assert sorted(p.inputs["metadata"]["name"] for p in patches) == ["gpu-node-1", "gpu-node-2"]
    for patch in patches:
        labels = patch.inputs["metadata"]["labels"]
        assert labels["kubeforge.io/gpu-model"] == "a100-80gb"
        assert labels["kubeforge.io/gpu-driver"] == "580.95.05"
        assert patch.inputs["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
        # Removing kubeforge must not strip labels from nodes it does not own.
        assert patch.options["retainOnDelete"] is True


def test_onprem_capacity_counts_the_named_nodes(project, onprem_platform, tenant_spec):
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    assert load_stack("test", project.path).gpu_capacity == 16


def test_onprem_gpu_pool_must_name_its_nodes(project, onprem_platform, tenant_spec):
    del onprem_platform["nodePools"]["a100"]["nodes"]
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(ConfigError, match="nodePools.a100.nodes: on-prem GPU pools must name their existing nodes"):
        load_stack("test", project.path)


def test_kubeconfig_context_reaches_the_provider(project, onprem_platform, tenant_spec):
    onprem_platform["onprem"] = {"kubeconfigContext": "lab-admin"}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    (provider,) = graph.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "lab-admin"
