"""The reshape replaces nothing: every URN the shipped stacks had keeps its resource, or the
resource that took its place carries a Pulumi alias to it, with the same inputs.

The graphs in tests/fixtures/graphs-before-reshape/ were recorded with `kubeforge preview
--json` before the component registry existed (commit fd4567b).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

BEFORE = ROOT / "tests" / "fixtures" / "graphs-before-reshape"
STACKS = ["local", "aws-prod", "gcp-prod"]


def _without_labels(value):
    # Recommended labels were added to every Kubernetes object since: a label change
    # updates an object in place, it never replaces it.
    if isinstance(value, dict):
        return {k: _without_labels(v) for k, v in value.items() if k != "labels"}
    if isinstance(value, list):
        return [_without_labels(v) for v in value]
    return value


@pytest.fixture(scope="module")
def graphs(local_graph, aws_graph, gcp_graph):
    return {"local": local_graph, "aws-prod": aws_graph, "gcp-prod": gcp_graph}


def _before(stack: str) -> dict[str, dict]:
    return {r["urn"]: r for r in json.loads((BEFORE / f"{stack}.json").read_text())["resources"]}


def _successor(graph, urn: str):
    if urn in graph.resources:
        return graph.resources[urn]
    matches = [r for r in graph.resources.values() if urn in r.options["aliases"]]
    return matches[0] if len(matches) == 1 else None


@pytest.mark.parametrize("stack", STACKS)
def test_every_earlier_urn_is_kept_or_aliased(graphs, stack):
    missing = [urn for urn in _before(stack) if _successor(graphs[stack], urn) is None]
    assert missing == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_earlier_resource_keeps_its_inputs_and_options(graphs, stack):
    for urn, old in _before(stack).items():
        new = _successor(graphs[stack], urn)
        assert (new.type, _without_labels(new.inputs)) == (old["type"], _without_labels(old["inputs"])), urn
        options = {k: v for k, v in new.options.items() if k != "aliases"}
        assert options == old["options"], urn


def test_a_renamed_component_and_its_children_alias_their_old_urns(local_graph):
    prefix = "urn:pulumi:local::kubeforge::kubeforge:platform:Platform$kubeforge:platform:PlatformNamespaces"
    component = local_graph.named("namespaces")
    assert component.options["aliases"] == [f"{prefix}::kubeforge-namespaces"]
    child = local_graph.named("namespaces-kubeflow")
    assert child.options["aliases"] == [f"{prefix}$kubernetes:core/v1:Namespace::kubeforge-namespaces-kubeflow"]


def test_resources_without_aliases_record_an_empty_list(local_graph):
    assert local_graph.named("gpu-operator-release").options["aliases"] == []
