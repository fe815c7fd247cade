"""A tenant can submit only to its own queue: the rendered admission policy's CEL,
evaluated here with cel-python exactly as the API server would evaluate it."""

from __future__ import annotations

import celpy
import pytest
import yaml

from kubeforge.render import render


@pytest.fixture(scope="module")
def rendered(local_graph, tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    render(local_graph, out)
    return out / "_cluster"


@pytest.fixture(scope="module")
def policy(rendered):
    """The policy as kubeforge render writes it: what is applied to the cluster."""
    doc = yaml.safe_load((rendered / "ValidatingAdmissionPolicy-kubeforge-tenant-queue.yaml").read_text())
    assert doc["apiVersion"] == "admissionregistration.k8s.io/v1"
    return doc["spec"]


def _admit(policy: dict, resource: str, namespace: str, tenant: str | None, spec: dict) -> list[str]:
    """Messages of the validations that fail (empty: admitted)."""
    env = celpy.Environment()
    activation = {
        "request": {"resource": {"resource": resource}},
        "namespaceObject": {"metadata": {"name": namespace, "labels": {"kubeforge.io/tenant": tenant} if tenant else {}}},
        "object": {"metadata": {"name": "job", "namespace": namespace}, "spec": spec},
    }

    def run(expression: str, variables: dict):
        program = env.program(env.compile(expression))
        return program.evaluate(celpy.json_to_cel({**activation, "variables": variables}))

    variables: dict = {}
    for variable in policy["variables"]:
        variables[variable["name"]] = run(variable["expression"], variables)
    return [str(run(v["messageExpression"], variables)) for v in policy["validations"]
            if not bool(run(v["expression"], variables))]


def test_the_policy_applies_to_tenant_namespaces_and_fails_closed(policy, rendered):
    assert policy["failurePolicy"] == "Fail"
    selector = policy["matchConstraints"]["namespaceSelector"]
    assert selector == {"matchExpressions": [{"key": "kubeforge.io/tenant", "operator": "Exists"}]}
    resources = {r["resources"][0] for r in policy["matchConstraints"]["resourceRules"]}
    assert resources == {"podgroups", "jobs"}
    binding = yaml.safe_load((rendered / "ValidatingAdmissionPolicyBinding-kubeforge-tenant-queue.yaml").read_text())
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert binding["spec"]["policyName"] == "kubeforge-tenant-queue"


def test_a_podgroup_naming_another_tenants_queue_is_rejected(policy):
    (message,) = _admit(policy, "podgroups", "vision", "vision", {"queue": "speech-ai"})
    assert message == "PodGroups in namespace vision run in queue vision, not speech-ai"


def test_a_podgroup_in_its_own_queue_is_admitted(policy):
    assert _admit(policy, "podgroups", "vision", "vision", {"queue": "vision", "minMember": 2}) == []


def test_a_podgroup_left_in_the_default_queue_is_rejected(policy):
    # Volcano's webhook moves "default" to the namespace's queue before this runs; a
    # PodGroup still in "default" means that did not happen, and it must not slip through.
    assert _admit(policy, "podgroups", "vision", "vision", {"queue": "default"})


def test_a_volcano_job_naming_another_tenants_queue_is_rejected(policy):
    (message,) = _admit(policy, "jobs", "vision", "vision", {"queue": "speech-ai"})
    assert "run in queue vision, not speech-ai" in message


def test_a_volcano_job_on_default_or_its_own_queue_is_admitted(policy):
    assert _admit(policy, "jobs", "vision", "vision", {"queue": "default"}) == []
    assert _admit(policy, "jobs", "vision", "vision", {}) == []
    assert _admit(policy, "jobs", "vision", "vision", {"queue": "vision"}) == []
