"""Platform namespaces enforce Pod Security too: privileged only where the catalog says why."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kubeforge.catalog import ComponentPin, load_release

RELEASE = load_release("2026.12")


def test_every_platform_namespace_enforces_a_pod_security_level(local_graph):
    namespaces = [r for r in local_graph.children(local_graph.named("namespaces").urn)]
    assert namespaces
    levels = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for r in namespaces}
    privileged = {ns for ns, level in levels.items() if level == "privileged"}
    reasons = {pin.namespace for pin in RELEASE.components.values() if pin.privileged_because}
    assert privileged == reasons == {"gpu-operator", "istio-system", "monitoring"}
    assert levels["kubeflow"] == "baseline"


def test_a_privileged_component_must_say_why():
    pin = RELEASE.components["kserve"].model_dump(by_alias=True)
    with pytest.raises(ValidationError, match="needs privilegedBecause"):
        ComponentPin.model_validate({**pin, "podSecurity": "privileged"})
