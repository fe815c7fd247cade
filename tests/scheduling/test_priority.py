"""Tenant priority tiers: one PriorityClass each, named by a pure function the tenancy component uses."""

from __future__ import annotations

from typing import get_args

import pytest

from components.scheduling.priority import PRIORITY_CLASSES, PriorityTier, priority_class_name
from kubeforge.config.spec import TenantQueue

PRIORITY_CLASS = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
# Kubernetes reserves priorities above one billion for its own system classes.
# Ref: https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/#priorityclass
USER_MAX = 1_000_000_000


def _classes(graph) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in graph.of_type(PRIORITY_CLASS)}


def test_each_tier_maps_to_its_kubeforge_priority_class():
    assert {tier: priority_class_name(tier) for tier in get_args(PriorityTier)} == {
        "low": "kubeforge-low", "normal": "kubeforge-normal", "high": "kubeforge-high",
    }


def test_the_tiers_are_the_ones_a_tenant_file_may_name():
    assert set(get_args(PriorityTier)) == set(get_args(TenantQueue.model_fields["priority"].annotation))


def test_an_unknown_tier_has_no_class():
    with pytest.raises(KeyError):
        priority_class_name("urgent")  # type: ignore[arg-type]


@pytest.mark.parametrize("graph_fixture", ["local_graph", "aws_graph", "gcp_graph"])
def test_every_stack_has_a_priority_class_per_tier(request, graph_fixture):
    classes = _classes(request.getfixturevalue(graph_fixture))
    assert set(classes) == {"kubeforge-low", "kubeforge-normal", "kubeforge-high"}


def test_priority_classes_rank_the_tiers_below_the_systems_classes(local_graph):
    classes = _classes(local_graph)
    values = [classes[f"kubeforge-{tier}"]["value"] for tier in ("low", "normal", "high")]
    assert values == [1_000, 10_000, 100_000]
    assert values == sorted(values) and 0 < values[0] and values[-1] < USER_MAX
    assert [classes[f"kubeforge-{t}"]["value"] for t in ("low", "normal", "high")] == [
        PRIORITY_CLASSES[t].value for t in ("low", "normal", "high")
    ]


def test_every_tier_may_preempt_and_none_is_the_cluster_default(local_graph):
    for name, spec in _classes(local_graph).items():
        # Volcano's reclaim skips pods whose class says Never: a low tier could not take back its share.
        assert spec["preemptionPolicy"] == "PreemptLowerPriority", name
        assert spec["globalDefault"] is False, name
        assert spec["description"].startswith("kubeforge tenant tier"), name


def test_priority_classes_are_the_scheduling_concerns(local_graph):
    component = local_graph.named("priority-classes")
    for resource in local_graph.children(component.urn):
        assert resource.type == PRIORITY_CLASS
        assert resource.inputs["metadata"]["labels"]["app.kubernetes.io/component"] == "scheduling"
        assert resource.name == f"priority-classes-{resource.inputs['metadata']['name'].removeprefix('kubeforge-')}"


def test_priority_classes_stay_when_the_scheduler_is_off(project, onprem_platform, tenant_spec):
    """Tenants' pods name their tier's class whichever scheduler runs them."""
    onprem_platform["scheduler"] = {"enabled": False}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert set(_classes(graph)) == {"kubeforge-low", "kubeforge-normal", "kubeforge-high"}
