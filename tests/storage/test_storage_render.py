"""The storage objects kubeforge renders are valid Kubernetes objects (strict schema validation)."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from kubeforge.config.credentials import OBJECT_STORE_CREDENTIALS_KEY
from kubeforge.render import render
from tests.storage.helpers import CREDENTIALS

KINDS = {"StorageClass", "PersistentVolumeClaim", "ServiceAccount", "ConfigMap", "Namespace", "Secret"}


def _storage_objects(graph, out):
    objects = []
    for path in render(graph, out):
        if path.name.endswith(".yaml") and ".patch." not in path.name:
            obj = yaml.safe_load(path.read_text())
            labels = obj.get("metadata", {}).get("labels", {})
            if obj.get("kind") in KINDS and labels.get("app.kubernetes.io/component") == "storage":
                objects.append(obj)
    return objects


@pytest.mark.parametrize("graph_name", ["local_graph", "aws_graph", "gcp_graph"])
def test_rendered_storage_objects_are_schema_valid(request, tmp_path, graph_name):
    objects = _storage_objects(request.getfixturevalue(graph_name), tmp_path / graph_name)
    assert {o["kind"] for o in objects} >= {"StorageClass", "PersistentVolumeClaim"}
    for obj in objects:
        kubernetes_validate.validate(obj, "1.34", strict=True)


def test_rendered_in_cluster_store_objects_are_schema_valid(project, onprem_platform, tenant_spec, tmp_path):
    onprem_platform["storage"]["object"] = {"store": "seaweedfs"}
    graph = (project.stack(onprem_platform, extra={OBJECT_STORE_CREDENTIALS_KEY: CREDENTIALS})
             .tenant("team-a", tenant_spec).preview())
    objects = _storage_objects(graph, tmp_path / "out")
    assert {o["kind"] for o in objects} == KINDS - {"ServiceAccount"}
    for obj in objects:
        kubernetes_validate.validate(obj, "1.34", strict=True)


def test_schema_validation_catches_a_bad_claim():
    bad = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "x"},
           "spec": {"accessModes": ["ReadWriteMany"], "storageClass": "kubeforge-nas"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.34", strict=True)
