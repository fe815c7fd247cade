"""``kubeforge diff``: what changed between a saved graph and the stack's current one, and
which changes replace or delete a stateful resource (the replacement facts, each cited)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from kubeforge.cli import main
from kubeforge.diff import (
    ReplacementRule,
    ReplacementRules,
    diff,
    flatten,
    markdown_report,
    replacement_rules,
    text_report,
)
from kubeforge.engine.graph import RecordedResource, ResourceGraph
from tests.conftest import ROOT, TENANT, Project, variant

STACK = "urn:pulumi:s::kubeforge::pulumi:pulumi:Stack::kubeforge-s"
RULES = ReplacementRules(
    types={"aws:eks/nodeGroup:NodeGroup": ReplacementRule(
        stateful=True, why="the nodes and the pods on them", force_new=("instanceTypes", "scalingConfig.x"),
        source="https://example.test/node_group.go")},
    kubernetes_identity=("metadata.name", "metadata.namespace"),
)


def _resource(name: str, type_: str, inputs: dict, aliases: list[str] | None = None) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:s::kubeforge::{type_}::{name}", type=type_, name=name, parent=STACK,
                            dependencies=(), provider=None, custom=True, inputs=inputs,
                            options={"aliases": aliases or [], "protect": False})


def _graph(*resources: RecordedResource) -> ResourceGraph:
    graph = ResourceGraph(stack="s", project="kubeforge")
    graph.resources = {r.urn: r for r in resources}
    return graph


NODES = _resource("gpu", "aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["p4de.24xlarge"],
                                                         "scalingConfig": {"maxSize": 4}})


def test_flatten_names_every_leaf_by_its_path():
    assert flatten({"a": {"b": [1, {"c": 2}]}, "d": {}}) == {"a.b[0]": 1, "a.b[1].c": 2, "d": {}}


def test_an_in_place_change_is_an_update_and_not_dangerous():
    changed = _resource("gpu", NODES.type, {**NODES.inputs, "scalingConfig": {"maxSize": 8}})
    (change,) = diff(_graph(NODES), _graph(changed), RULES).changes
    assert change.action == "update" and not change.dangerous
    assert [(p.path, p.old, p.new, p.forces_replacement) for p in change.changes] == [
        ("scalingConfig.maxSize", 4, 8, False)]


def test_a_force_new_property_replaces_a_stateful_resource_and_is_dangerous():
    changed = _resource("gpu", NODES.type, {**NODES.inputs, "instanceTypes": ["p4d.24xlarge"]})
    result = diff(_graph(NODES), _graph(changed), RULES)
    (change,) = result.dangerous
    assert change.action == "replace"
    assert "instanceTypes force" in text_report(result, RULES) and "https://example.test/node_group.go" in \
        text_report(result, RULES)


def test_a_removed_stateful_resource_is_dangerous_and_an_added_one_is_not():
    result = diff(_graph(NODES), _graph(), RULES)
    assert [(c.action, c.dangerous) for c in result.changes] == [("remove", True)]
    result = diff(_graph(), _graph(NODES), RULES)
    assert [(c.action, c.dangerous) for c in result.changes] == [("add", False)]


def test_a_renamed_resource_matched_by_its_alias_is_not_removed_and_added():
    renamed = _resource("gpu-pool", NODES.type, NODES.inputs, aliases=[NODES.urn])
    assert diff(_graph(NODES), _graph(renamed), RULES).changes == []


def test_a_kubernetes_objects_name_replaces_it():
    claim = _resource("claim", "kubernetes:core/v1:PersistentVolumeClaim", {"metadata": {"name": "a"}})
    renamed = _resource("claim", claim.type, {"metadata": {"name": "b"}})
    (change,) = diff(_graph(claim), _graph(renamed), RULES).changes
    assert change.action == "replace" and change.changes[0].forces_replacement


def test_a_secret_that_did_not_change_is_no_change():
    secret = _resource("s", "kubernetes:core/v1:Secret", {"stringData": {"password": "[secret]"}})
    assert diff(_graph(secret), _graph(secret), RULES).changes == []


# --- the replacement facts ------------------------------------------------------------------

def test_every_replacement_row_cites_upstream_code_and_says_so_where_it_is_not_pinned():
    doc = yaml.safe_load((ROOT / "kubeforge" / "data" / "replacement.yaml").read_text())
    assert doc["kubernetesNameOrNamespace"]["properties"] == ["metadata.name", "metadata.namespace"]
    for type_, row in doc["types"].items():
        assert row["source"].startswith("https://github.com/") and "/blob/" in row["source"], type_
        assert isinstance(row["stateful"], bool) and row["why"], type_
        if "/blob/main/" in row["source"]:
            assert row.get("note"), f"{type_}: a source on main must say which version was read"


@pytest.mark.parametrize("type_", [
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:efs/fileSystem:FileSystem", "aws:kms/key:Key",
    "aws:rds/instance:Instance", "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool",
    "gcp:storage/bucket:Bucket", "gcp:filestore/instance:Instance", "gcp:kms/cryptoKey:CryptoKey",
    "kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:Namespace",
])
def test_the_stateful_types_kubeforge_creates_are_covered(type_):
    assert replacement_rules().stateful(type_)


# --- on real stacks ------------------------------------------------------------------------

def _two_stacks(tmp_path: Path, change) -> tuple[ResourceGraph, ResourceGraph]:
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.aws-prod.yaml").read_text())["config"]
    secret = {k: v for k, v in config.items() if k == "kubeforge:identitySecret"}
    graphs = []
    for i, edit in enumerate((lambda p, t: None, change)):
        platform = copy.deepcopy(config["kubeforge:platform"])
        tenants = {"team-a": copy.deepcopy(TENANT), "team-c": copy.deepcopy(TENANT)}
        edit(platform, tenants)
        platform["tenants"] = sorted(tenants)
        project = Project(tmp_path / str(i)).stack(platform, extra=secret)
        for name, spec in tenants.items():
            project.tenant(name, spec)
        graphs.append(project.preview())
    return graphs[0], graphs[1]


def test_adding_a_tenant_only_adds_its_own_resources(tmp_path):
    saved, current = _two_stacks(tmp_path, lambda p, tenants: tenants.update({"team-b": copy.deepcopy(TENANT)}))
    result = diff(saved, current)
    assert result.changes and {c.action for c in result.changes} == {"add"}
    assert all("team-b" in c.urn for c in result.changes)


def test_changing_a_tenant_changes_only_that_tenants_resources(tmp_path):
    def more_gpus(platform, tenants):
        tenants["team-c"]["quota"]["gpu"] = tenants["team-c"]["quota"]["gpu"] + 1
    result = diff(*_two_stacks(tmp_path, more_gpus))
    assert result.changes and all("team-c" in c.urn for c in result.changes)
    assert not result.dangerous


def test_a_gpu_pools_new_machine_type_is_a_dangerous_replacement(tmp_path, capsys):
    def other_machines(platform, tenants):
        pool = next(p for p in platform["nodePools"].values() if "gpu" in p)
        pool["gpu"]["model"] = "a100-40gb"
    saved, current = _two_stacks(tmp_path, other_machines)
    result = diff(saved, current)
    (nodes,) = [c for c in result.dangerous if c.type == "aws:eks/nodeGroup:NodeGroup"]
    assert any(p.path.startswith("instanceTypes") and p.forces_replacement for p in nodes.changes)
    assert "Dangerous" in markdown_report(result)


def test_the_cli_exits_1_on_a_dangerous_change_only_when_asked(tmp_path, capsys):
    project = variant(Project(tmp_path / "p"), TENANT, "aws-prod", lambda p: None)
    saved = tmp_path / "saved.json"
    graph = json.loads(project.preview().to_json())
    for resource in graph["resources"]:
        if resource["type"] == "aws:eks/nodeGroup:NodeGroup":
            resource["inputs"]["instanceTypes"] = ["p4d.24xlarge"]
    saved.write_text(json.dumps(graph))
    args = ["-C", str(project.path), "diff", "--stack", "test", "--against", str(saved)]
    assert main(args) == 0
    assert "DANGEROUS" in capsys.readouterr().out
    assert main([*args, "--fail-on-dangerous", "--format", "markdown"]) == 1
    assert capsys.readouterr().out.startswith("### kubeforge diff: stack `test`")


def test_a_saved_graph_of_another_stack_is_refused(tmp_path, capsys, local_graph):
    saved = tmp_path / "local.json"
    saved.write_text(local_graph.to_json())
    assert main(["-C", str(ROOT), "diff", "--stack", "aws-prod", "--against", str(saved)]) == 2
    err = capsys.readouterr().err
    assert "is a graph of stack 'local', not 'aws-prod'" in err and "Traceback" not in err


def test_a_listed_block_replaces_when_added_or_removed_not_when_a_field_inside_changes():
    rules = ReplacementRules(types={"gcp:container/nodePool:NodePool": ReplacementRule(
        stateful=True, why="the nodes", force_new=("placementPolicy", "nodeConfig.machineType"), source="s")},
        kubernetes_identity=())
    pool = _resource("pool", "gcp:container/nodePool:NodePool", {"nodeConfig": {"machineType": "a2", "labels": {}}})
    placed = _resource("pool", pool.type, {**pool.inputs, "placementPolicy": {"type": "COMPACT"}})
    (change,) = diff(_graph(pool), _graph(placed), rules).changes
    assert change.action == "replace"
    moved = _resource("pool", pool.type, {**placed.inputs, "placementPolicy": {"type": "COMPACT", "policyName": "x"}})
    (change,) = diff(_graph(placed), _graph(moved), rules).changes
    assert change.action == "update"


def test_an_immutable_kubernetes_field_the_provider_updates_in_place_is_called_out():
    storage_class = _resource("nas", "kubernetes:storage.k8s.io/v1:StorageClass",
                              {"metadata": {"name": "kubeforge-nas"}, "reclaimPolicy": "Retain"})
    changed = _resource("nas", storage_class.type, {**storage_class.inputs, "reclaimPolicy": "Delete"})
    result = diff(_graph(storage_class), _graph(changed))
    (prop,) = result.changes[0].changes
    assert not prop.forces_replacement and "API server refuses" in prop.note
    assert "API server refuses" in text_report(result)
