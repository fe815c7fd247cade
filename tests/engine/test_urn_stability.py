"""Nothing is replaced: every URN the shipped stacks had before the reshape keeps its
resource, or the resource that took its place carries a Pulumi alias to it, of the same
type and with the same resource options (protect, retainOnDelete, ignoreChanges, ...).

The graphs in tests/fixtures/graphs-before-reshape/ were recorded with `kubeforge preview
--json` before the component registry existed (commit fd4567b). At the reshape (commit
8f668f2) the inputs were also identical apart from labels; later work changes inputs on
purpose (in-place updates), never URNs.
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


def _superseded_by_kfam(graph, old: dict):
    """A contributor's plain RoleBinding (to ClusterRole edit or view), superseded on purpose
    once Kubeflow Profiles are installed (release 2026.12, docs/UPGRADE.md): the contributor's
    KFAM-shaped binding, to kubeflow-<role>, in the same namespace for the same user."""
    inputs = old["inputs"]
    if old["type"] != "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" or \
            inputs["roleRef"]["name"] not in ("edit", "view"):
        return None
    user = inputs["subjects"][0]["name"]
    matches = [r for r in graph.of_type(old["type"])
               if r.inputs["metadata"]["namespace"] == inputs["metadata"]["namespace"]
               and r.inputs["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
               and r.inputs["roleRef"]["name"] == f"kubeflow-{inputs['roleRef']['name']}"]
    return matches[0] if len(matches) == 1 else None


# Removed on purpose, each in docs/UPGRADE.md: resource name -> why.
REMOVED = {
    # Created empty for KServe before any component installed it; KServe now installs into
    # kubeflow, as the Kubeflow distribution 26.03 does.
    "kubeforge-namespaces-kserve": "KServe installs into kubeflow",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_earlier_urn_is_kept_or_aliased(graphs, stack):
    missing = [urn for urn, old in _before(stack).items()
               if _successor(graphs[stack], urn) is None and _superseded_by_kfam(graphs[stack], old) is None
               and old["name"] not in REMOVED]
    assert missing == []


@pytest.mark.parametrize("stack", STACKS)
def test_only_contributors_plain_bindings_are_superseded(graphs, stack):
    gone = {urn: old for urn, old in _before(stack).items()
            if _successor(graphs[stack], urn) is None and old["name"] not in REMOVED}
    assert gone and all(_superseded_by_kfam(graphs[stack], old) is not None for old in gone.values())


@pytest.mark.parametrize("stack", STACKS)
def test_every_earlier_resource_keeps_its_type_and_options(graphs, stack):
    for urn, old in _before(stack).items():
        if old["name"] in REMOVED:
            continue
        new = _successor(graphs[stack], urn) or _superseded_by_kfam(graphs[stack], old)
        assert new.type == old["type"], urn
        options = {k: v for k, v in new.options.items() if k != "aliases"}
        assert options == old["options"], urn


# Inputs added on purpose to a cloud resource, each an in-place update: (stack, resource
# name) -> input keys absent before.
ADDED_INPUTS = {
    # GKE's Filestore CSI driver add-on (components/cluster/gcp.py): enabling an add-on
    # updates the cluster in place.
    # Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/filestore-csi-driver#enable-existing
    ("gcp-prod", "cluster-gke"): {"addonsConfig"},
}


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_resources_keep_their_inputs(graphs, stack):
    # The clusters, networks and node pools: changing one of these can replace a cluster.
    for urn, old in _before(stack).items():
        if old["type"].startswith(("aws:", "gcp:")):
            new = _successor(graphs[stack], urn)
            added = ADDED_INPUTS.get((stack, new.name), set())
            assert not added & set(old["inputs"]), urn
            assert {k: v for k, v in new.inputs.items() if k not in added} == old["inputs"], urn


def test_a_renamed_component_and_its_children_alias_their_old_urns(local_graph):
    prefix = "urn:pulumi:local::kubeforge::kubeforge:platform:Platform$kubeforge:platform:PlatformNamespaces"
    component = local_graph.named("namespaces")
    assert component.options["aliases"] == [f"{prefix}::kubeforge-namespaces"]
    child = local_graph.named("namespaces-kubeflow")
    assert child.options["aliases"] == [f"{prefix}$kubernetes:core/v1:Namespace::kubeforge-namespaces-kubeflow"]


def test_resources_without_aliases_record_an_empty_list(local_graph):
    assert local_graph.named("gpu-operator-release").options["aliases"] == []
