"""The Volcano component: pinned chart, generated configuration, values the chart has, default queue capped."""

from __future__ import annotations

import itertools

import jsonschema
import pytest
import yaml

from components.scheduling.volcano import VolcanoScheduler, scheduler_conf, volcano_values
from kubeforge.catalog import load_release
from kubeforge.config.loader import load_stack
from kubeforge.config.spec import SchedulerSpec, quantity_value
from kubeforge.errors import ConfigError
from tests.conftest import REFERENCE, ROOT
from tests.helm_values import assert_values_exist, unknown_value_paths

PIN = load_release("2026.11").components["volcano"].charts[0]
CHART_VALUES = REFERENCE / "charts" / PIN.name / PIN.version / "values.yaml"
RELEASE = "kubernetes:helm.sh/v3:Release"
QUEUE_PATCH = "kubernetes:scheduling.volcano.sh/v1beta1:QueuePatch"
GRAPHS = [("local", "local_graph"), ("aws-prod", "aws_graph"), ("gcp-prod", "gcp_graph")]


def _volcano(graph):
    releases = [r for r in graph.of_type(RELEASE) if r.inputs["chart"] == PIN.name]
    assert len(releases) == 1
    return releases[0]


def _conf(release) -> dict:
    return yaml.safe_load(release.inputs["values"]["custom"]["scheduler_config_override"])


# --- the release -------------------------------------------------------------------------------


def test_chart_version_and_repository_come_from_the_catalog(local_graph):
    release = _volcano(local_graph).inputs
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        PIN.name, PIN.version, PIN.repository,
    )
    assert (release["name"], release["namespace"]) == ("volcano", "volcano-system")


def test_the_release_is_a_child_of_the_volcano_component(local_graph):
    component = local_graph.named("volcano")
    assert component.type == VolcanoScheduler.type_token
    assert _volcano(local_graph).parent == component.urn
    assert _volcano(local_graph).name == "volcano-release"


def test_the_release_comes_after_the_namespaces(local_graph):
    namespaces = [r.urn for r in local_graph.children(local_graph.named("namespaces").urn)]
    assert set(namespaces) <= set(local_graph.named("volcano").dependencies)


@pytest.mark.parametrize("stack,graph_fixture", GRAPHS)
def test_every_shipped_stack_runs_the_configuration_of_its_scheduler_settings(request, stack, graph_fixture):
    release = _volcano(request.getfixturevalue(graph_fixture))
    assert _conf(release) == scheduler_conf(load_stack(stack, ROOT).scheduler)
    assert release.inputs["values"]["custom"]["scheduler_name"] == "volcano"


def test_stack_settings_reach_the_scheduler(project, onprem_platform, tenant_spec):
    settings = {"policy": "spread", "gang": False, "preemption": False, "queuePlugin": "proportion"}
    onprem_platform["scheduler"] = settings
    conf = _conf(_volcano(project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()))
    assert conf == scheduler_conf(SchedulerSpec.model_validate(settings))
    assert conf != scheduler_conf(SchedulerSpec())


def test_values_overrides_cannot_replace_the_generated_configuration(project, onprem_platform, tenant_spec):
    onprem_platform["scheduler"] = {"valuesOverrides": {"custom": {"scheduler_config_override": "actions: allocate"}}}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(ConfigError, match="custom.scheduler_config_override"):
        load_stack("test", project.path)


def test_a_disabled_scheduler_installs_nothing_of_volcano(project, onprem_platform, tenant_spec):
    onprem_platform["scheduler"] = {"enabled": False}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert [r for r in graph.of_type(RELEASE) if r.inputs["chart"] == PIN.name] == []
    assert graph.of_type(QUEUE_PATCH) == []
    assert graph.of_type(VolcanoScheduler.type_token) == []
    namespaces = [r.inputs["metadata"]["name"] for r in graph.of_type("kubernetes:core/v1:Namespace")]
    assert "volcano-system" not in namespaces


# --- Helm values -------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [
    {"policy": p, "gang": g, "preemption": e, "queuePlugin": q}
    for p, g, e, q in itertools.product(("binpack", "spread"), (True, False), (True, False), ("capacity", "proportion"))
], ids=lambda s: "-".join(str(v) for v in s.values()))
def test_every_value_kubeforge_sets_is_one_the_chart_has(settings):
    assert_values_exist(volcano_values(SchedulerSpec.model_validate(settings)), CHART_VALUES)


@pytest.mark.parametrize("stack,graph_fixture", GRAPHS)
def test_every_value_a_shipped_stack_sets_is_one_the_chart_has(request, stack, graph_fixture):
    assert_values_exist(_volcano(request.getfixturevalue(graph_fixture)).inputs["values"], CHART_VALUES)


def test_the_values_check_finds_a_key_the_chart_does_not_have():
    chart = {"custom": {"scheduler_name": None, "scheduler_affinity": None, "scheduler_replicas": 1},
             "basic": {"image_tag_version": "v1.15.1"}, "service": {"ipFamilies": []}}
    assert unknown_value_paths({"custom": {"scheduler_name": "volcano"}}, chart) == []
    assert unknown_value_paths({"custom": {"scheduler_affinity": {"nodeAffinity": {}}}}, chart) == []
    assert unknown_value_paths({"custom": {"schedulerName": "volcano"}, "extra": 1}, chart) == [
        "custom.schedulerName", "extra",
    ]
    assert unknown_value_paths({"custom": {"scheduler_replicas": {"min": 1}}}, chart) == [
        "custom.scheduler_replicas (the chart's default is a int, not a mapping)",
    ]
    assert unknown_value_paths({"basic": "v1"}, chart) == ["basic (the chart's default is a mapping, not a str)"]


def test_the_values_check_fails_the_test_that_uses_it(tmp_path):
    if not REFERENCE.is_dir():
        pytest.skip(f"upstream reference files not available: {REFERENCE} is absent")
    with pytest.raises(AssertionError, match="custom.scheduler_conf"):
        assert_values_exist({"custom": {"scheduler_conf": "x"}}, CHART_VALUES)
    with pytest.raises(AssertionError, match="no chart values"):
        assert_values_exist({}, tmp_path / "values.yaml")


# --- the default queue -------------------------------------------------------------------------


def test_the_default_queue_is_capped_at_nothing_meaningful(local_graph):
    (patch,) = local_graph.of_type(QUEUE_PATCH)
    assert patch.inputs["metadata"]["name"] == "default"
    capability = patch.inputs["spec"]["capability"]
    assert set(capability) == {"cpu", "memory", "nvidia.com/gpu"}
    assert capability["nvidia.com/gpu"] == "0"
    # Volcano reads a cpu or memory capability of 0 as unlimited: these must be positive and tiny.
    assert 0 < quantity_value(capability["cpu"]) <= quantity_value("1m")
    assert 0 < quantity_value(capability["memory"]) <= quantity_value("1Ki")


def test_the_default_queue_patch_matches_volcanos_queue_crd(local_graph):
    crd_path = REFERENCE / "crds" / "scheduling.volcano.sh_queues.yaml"
    if not crd_path.is_file():
        pytest.skip(f"Volcano's Queue CRD is not available: {crd_path} is absent")
    (patch,) = local_graph.of_type(QUEUE_PATCH)
    crd = yaml.safe_load(crd_path.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == patch.inputs["apiVersion"].rpartition("/")[2]]
    spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert set(patch.inputs["spec"]) <= set(spec_schema["properties"])
    jsonschema.validate(patch.inputs["spec"]["capability"], spec_schema["properties"]["capability"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"cpu": ["1m"]}, spec_schema["properties"]["capability"])


def test_the_default_queue_is_patched_after_volcano_is_installed(local_graph):
    (patch,) = local_graph.of_type(QUEUE_PATCH)
    release = _volcano(local_graph)
    assert release.urn in patch.dependencies
    assert patch.parent == local_graph.named("volcano").urn
