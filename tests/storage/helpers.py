"""Small queries the storage tests share."""

from __future__ import annotations

import json
from typing import Any

from kubeforge.engine.graph import RecordedResource, ResourceGraph

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
HELM = "kubernetes:helm.sh/v3:Release"
CREDENTIALS = {
    "team-a": {"accessKeyId": "TEAMAKEYID0001", "secretAccessKey": "team-a-Secret/Key+0123456789"},
}


def named(graph: ResourceGraph, name: str, type_: str) -> RecordedResource:
    """The one resource of ``type_`` called ``name`` (a component and its child may share one)."""
    (resource,) = [r for r in graph.of_type(type_) if r.name == name]
    return resource


def nas_class(graph: ResourceGraph) -> RecordedResource:
    (storage_class,) = graph.of_type(STORAGE_CLASS)
    return storage_class


def document(resource: RecordedResource, key: str) -> dict[str, Any]:
    """A JSON policy document input, parsed."""
    return json.loads(resource.inputs[key])


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = doc["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def graph_text(graph: ResourceGraph) -> str:
    """Everything the graph recorded, as one string (to look for values that must not be there)."""
    return json.dumps([[r.inputs, r.options] for r in graph.ordered()] + [graph.outputs], sort_keys=True)


def assert_irsa_trust_only(graph: ResourceGraph, role: RecordedResource, subject: str | list[str]) -> None:
    """The role's trust policy admits exactly ``subject`` (system:serviceaccount:<ns>:<name>,
    or a list of them) through the cluster's OIDC provider, with StringEquals: no wildcard
    can widen it."""
    (statement,) = statements(document(role, "assumeRolePolicy"))
    oidc = graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0]
    host = oidc.inputs["url"].removeprefix("https://")
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{host}"}
    assert statement["Condition"] == {"StringEquals": {f"{host}:sub": subject, f"{host}:aud": "sts.amazonaws.com"}}
