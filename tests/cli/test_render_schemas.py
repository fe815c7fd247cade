"""Every rendered Kubernetes object is valid against upstream schemas for the stack's version."""

from __future__ import annotations

import jsonschema
import kubernetes_validate
import pytest
import yaml

from kubeforge.config.loader import load_stack
from kubeforge.render import render
from tests.conftest import ROOT
from tests.crd_schemas import is_custom, validate_custom_resource


@pytest.mark.parametrize("stack,graph_fixture", [
    ("local", "local_graph"), ("aws-prod", "aws_graph"), ("gcp-prod", "gcp_graph"),
])
def test_rendered_objects_pass_strict_kubernetes_schema_validation(request, tmp_path, stack, graph_fixture):
    graph = request.getfixturevalue(graph_fixture)
    version = load_stack(stack, ROOT).kubernetes_version
    files = render(graph, tmp_path / stack)
    objects = [yaml.safe_load(f.read_text()) for f in files if f.name.endswith(".yaml") and ".patch." not in f.name]
    checked = custom = 0
    for obj in objects:
        if obj.get("kind") in ("HelmRelease", "Manifests"):
            continue  # kubeforge's own records of upstream installs, not Kubernetes objects
        if is_custom(obj):
            validate_custom_resource(obj)  # against the upstream CRD at the pinned version
            custom += 1
        else:
            kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked >= 10
    assert custom >= 3  # tenants' Queues, Profiles and PodDefaults


def test_node_marker_daemonset_is_schema_valid(project, onprem_platform, tenant_spec, tmp_path):
    pool = onprem_platform["nodePools"]["a100"]
    del pool["nodes"]
    pool.update(nodeSelector={"lab.example.com/gpu": "a100"}, max=3)
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    files = render(graph, tmp_path / "out")
    (ds,) = [f for f in files if f.name.startswith("DaemonSet-")]
    kubernetes_validate.validate(yaml.safe_load(ds.read_text()), "1.34", strict=True)


def test_custom_resource_validation_catches_a_misspelt_field():
    queue = {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "q"},
             "spec": {"weight": 1, "capabilty": {"cpu": "1"}}}
    with pytest.raises(jsonschema.ValidationError, match="capabilty"):
        validate_custom_resource(queue)


def test_schema_validation_catches_a_bad_object():
    """The check can fail: a misspelt field is rejected in strict mode."""
    bad = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hardd": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.34", strict=True)
