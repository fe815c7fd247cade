"""local (on-prem): an existing cluster, its named GPU nodes labelled and tainted."""

from __future__ import annotations

import pytest

from kubeforge.config.loader import load_stack
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


@pytest.fixture
def selector_graph(project, onprem_platform, tenant_spec):
    pool = onprem_platform["nodePools"]["a100"]
    del pool["nodes"]
    pool.update(nodeSelector={"lab.example.com/gpu": "a100"}, max=3)
    return project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()


def test_selected_gpu_nodes_are_marked_by_a_daemonset_on_matching_nodes(selector_graph):
    assert selector_graph.of_type("kubernetes:core/v1:NodePatch") == []
    (ds,) = selector_graph.of_type("kubernetes:apps/v1:DaemonSet")
    pod = ds.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"lab.example.com/gpu": "a100"}
    assert pod["tolerations"] == [{"operator": "Exists"}]
    label, taint = pod["initContainers"]
    assert label["args"][:4] == ["label", "node", "$(NODE_NAME)", "--overwrite"]
    assert "kubeforge.io/gpu-driver=580.95.05" in label["args"]
    assert "kubeforge.io/gpu-model=a100-80gb" in label["args"]
    assert taint["args"] == ["taint", "node", "$(NODE_NAME)", "nvidia.com/gpu=present:NoSchedule", "--overwrite"]
    assert label["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]


def test_node_marker_may_only_get_and_patch_nodes(selector_graph):
    (role,) = selector_graph.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    assert role.inputs["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]
    (binding,) = selector_graph.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["subjects"][0]["namespace"] == "kubeforge-system"


def test_node_marker_images_are_pinned_by_the_catalog(selector_graph):
    from kubeforge.catalog import load_release

    images = load_release("2026.11").platform_images
    (ds,) = selector_graph.of_type("kubernetes:apps/v1:DaemonSet")
    pod = ds.inputs["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["initContainers"]} == {images["kubectl"].image}
    assert pod["containers"][0]["image"] == images["pause"].image


def test_selector_pool_capacity_is_its_max(project, onprem_platform, tenant_spec):
    pool = onprem_platform["nodePools"]["a100"]
    del pool["nodes"]
    pool.update(nodeSelector={"lab.example.com/gpu": "a100"}, max=3)
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    assert load_stack("test", project.path).gpu_capacity == 24


def test_nodes_and_selector_together_are_rejected(project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["nodeSelector"] = {"lab.example.com/gpu": "a100"}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(ConfigError, match="give either 'nodes' or 'nodeSelector', not both"):
        load_stack("test", project.path)
