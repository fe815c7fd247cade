"""Tenants route their models through the gateway under /serving/<namespace>/ only: the
rendered admission policy's CEL, evaluated with cel-python as the API server would."""

from __future__ import annotations

import copy

import celpy
import pytest
import yaml

from components.access.gateway import GATEWAY_NAME
from tests.conftest import ROOT

GATEWAY = f"kubeflow/{GATEWAY_NAME}"


@pytest.fixture(scope="module")
def policy(local_graph):
    (policy,) = [r.inputs for r in local_graph.of_type(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
        if r.inputs["metadata"]["name"] == "kubeforge-tenant-routes"]
    return policy["spec"]


@pytest.fixture
def example():
    _, route = yaml.safe_load_all((ROOT / "examples" / "serve-triton-gpu.yaml").read_text())
    return yaml.safe_load(yaml.safe_dump(route).replace("TENANT", "vision"))


def _native(value):
    """A CEL value back as plain JSON (json_to_cel would read a CEL bool as an int)."""
    from celpy import celtypes

    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [_native(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {str(k): _native(v) for k, v in value.items()}
    return value


def _admit(policy: dict, namespace: str, obj: dict) -> list[str]:
    env = celpy.Environment()
    activation = {"namespaceObject": {"metadata": {"name": namespace, "labels": {"kubeforge.io/tenant": namespace}}},
                  "object": obj}

    def run(expression, variables):
        return env.program(env.compile(expression)).evaluate(celpy.json_to_cel({**activation, "variables": variables}))

    variables: dict = {}
    for variable in policy["variables"]:
        variables[variable["name"]] = _native(run(variable["expression"], variables))
    return [str(run(v["messageExpression"], variables)) for v in policy["validations"]
            if not bool(run(v["expression"], variables))]


def test_the_policy_guards_virtual_services_in_tenant_namespaces_and_fails_closed(policy):
    assert policy["failurePolicy"] == "Fail"
    assert policy["matchConstraints"]["resourceRules"][0]["resources"] == ["virtualservices"]
    assert policy["matchConstraints"]["namespaceSelector"] == {
        "matchExpressions": [{"key": "kubeforge.io/tenant", "operator": "Exists"}]}


def test_the_example_route_is_admitted_in_its_own_namespace(policy, example):
    assert _admit(policy, "vision", example) == []


def test_a_route_under_another_path_or_another_tenants_prefix_is_refused(policy, example):
    for prefix in ("/jupyter/", "/", "/serving/speech-ai/densenet/", "/serving/visionary/"):
        route = copy.deepcopy(example)
        route["spec"]["http"][0]["match"][0]["uri"]["prefix"] = prefix
        (message,) = _admit(policy, "vision", route)
        assert message == "routes on the platform gateway match only paths under /serving/vision/"


def test_a_route_without_a_path_match_on_the_gateway_is_refused(policy, example):
    del example["spec"]["http"][0]["match"]
    assert _admit(policy, "vision", example)


def test_another_gateway_is_refused_and_mesh_only_routes_are_free(policy, example):
    other = copy.deepcopy(example)
    other["spec"]["gateways"] = ["istio-system/some-gateway"]
    assert "bind only kubeflow/kubeflow-gateway or the mesh" in _admit(policy, "vision", other)[0]
    mesh = copy.deepcopy(example)
    del mesh["spec"]["gateways"]
    mesh["spec"]["http"][0]["match"][0]["uri"]["prefix"] = "/anything/"
    assert _admit(policy, "vision", mesh) == []


def test_a_route_to_another_namespace_is_refused(policy, example):
    example["spec"]["http"][0]["route"][0]["destination"]["host"] = "ml-pipeline.kubeflow.svc.cluster.local"
    (message,) = _admit(policy, "vision", example)
    assert message == "routes send traffic only to Services in vision"
    example["spec"]["http"][0]["route"][0]["destination"]["host"] = "densenet-predictor.vision.svc.cluster.local"
    assert _admit(policy, "vision", example) == []


def test_tcp_routes_on_the_gateway_are_refused(policy, example):
    example["spec"]["tcp"] = [{"route": [{"destination": {"host": "densenet-predictor"}}]}]
    assert "only HTTP routes on the platform gateway" in _admit(policy, "vision", example)


def test_editors_may_write_routes_only_once_the_policy_holds(local_graph):
    (role,) = [r for r in local_graph.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
               if r.inputs["metadata"]["name"] == "kubeforge-kubeflow-serving-routes"]
    assert role.inputs["metadata"]["labels"]["rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit"] == "true"
    (binding,) = [r for r in local_graph.of_type(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")
        if r.inputs["metadata"]["name"] == "kubeforge-tenant-routes"]
    assert binding.urn in role.dependencies


def test_delegating_or_mirroring_out_of_the_namespace_is_refused(policy, example):
    delegated = copy.deepcopy(example)
    del delegated["spec"]["http"][0]["route"]
    delegated["spec"]["http"][0]["delegate"] = {"name": "ml-pipeline-ui", "namespace": "kubeflow"}
    assert _admit(policy, "vision", delegated) == ["routes send traffic only to Services in vision"]
    example["spec"]["http"][0]["mirror"] = {"host": "collector.speech-ai.svc.cluster.local"}
    assert _admit(policy, "vision", example) == ["routes send traffic only to Services in vision"]
