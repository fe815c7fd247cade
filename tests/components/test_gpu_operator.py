"""The GPU Operator: pinned chart, and driver/toolkit management matching each install path."""

from __future__ import annotations

import pytest
import yaml

from kubeforge.catalog import load_release
from kubeforge.config.loader import load_stack
from kubeforge.errors import ConfigError

PIN = load_release("2026.11").components["gpuOperator"].charts[0]


def _release(graph):
    (release,) = [r for r in graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "gpu-operator"]
    return release.inputs


def test_chart_and_version_come_from_the_catalog(local_graph):
    release = _release(local_graph)
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        PIN.name, PIN.version, PIN.repository,
    )
    assert release["namespace"] == "gpu-operator"


def test_aws_leaves_driver_and_toolkit_to_the_pinned_ami(aws_graph):
    values = _release(aws_graph)["values"]
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"]["enabled"] is False
    assert values["devicePlugin"]["enabled"] is True
    assert values["dcgmExporter"]["enabled"] is True


def test_gcp_operator_uses_the_cos_installed_driver_from_gkes_directory(gcp_graph):
    values = _release(gcp_graph)["values"]
    assert values["driver"] == {"enabled": False}
    assert values["hostPaths"] == {"driverInstallDir": "/home/kubernetes/bin/nvidia"}
    assert values["toolkit"]["enabled"] is True
    assert values["toolkit"]["installDir"] == "/home/kubernetes/bin/nvidia"
    assert values["cdi"] == {"enabled": True}
    assert values["migManager"]["env"] == [{"name": "WITH_REBOOT", "value": "true"}]


def test_gcp_installs_each_pinned_driver_with_the_cos_installer(gcp_graph):
    (ds,) = gcp_graph.of_type("kubernetes:apps/v1:DaemonSet")
    assert (ds.inputs["metadata"]["name"], ds.inputs["metadata"]["namespace"]) == ("nvidia-driver-580-173-02",
                                                                                  "kube-system")
    assert ds.inputs["metadata"]["labels"]["app.kubernetes.io/version"] == "580.173.02"
    # Selectors are immutable: the one the DaemonSet was first created with.
    assert ds.inputs["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "nvidia-driver-580-173-02"}}
    pod = ds.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubeforge.io/gpu-driver": "580.173.02"}
    (install,) = pod["initContainers"]
    assert install["image"] == load_release("2026.11").platform_images["cosGpuInstaller"].image
    assert install["imagePullPolicy"] == "Never"
    script = install["command"][2]
    assert 'want="580.173.02"' in script
    assert '/cos-gpu-installer install --version="$want"' in script


def test_pools_pinning_different_drivers_get_one_installer_each(project, tenant_spec):
    from tests.conftest import variant

    graph = variant(project, tenant_spec, "gcp-prod",
                    lambda p: p["nodePools"]["a100-40"].update(driver="580.95.05")).preview()
    selectors = sorted(d.inputs["spec"]["template"]["spec"]["nodeSelector"]["kubeforge.io/gpu-driver"]
                       for d in graph.of_type("kubernetes:apps/v1:DaemonSet"))
    assert selectors == ["580.173.02", "580.95.05"]


def test_onprem_host_install_keeps_the_operator_off_the_driver(local_graph):
    assert _release(local_graph)["values"]["driver"] == {"enabled": False}


def test_onprem_operator_install_pins_the_pool_driver(project, onprem_platform, tenant_spec):
    onprem_platform["onprem"] = {"driverInstall": "operator"}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert _release(graph)["values"]["driver"]["version"] == "580.95.05"


def test_mig_strategy_and_layout_come_from_the_pool(project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["gpu"]["mig"] = {"strategy": "mixed", "layout": "3g.40gb,2g.20gb,1g.10gb"}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert _release(graph)["values"]["mig"] == {"strategy": "mixed"}
    (config_map,) = [c for c in graph.of_type("kubernetes:core/v1:ConfigMap") if c.name == "gpu-operator-mig-config"]
    layouts = yaml.safe_load(config_map.inputs["data"]["config.yaml"])["mig-configs"]
    assert layouts["kubeforge-a100"] == [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 1}}
    ]
    patch = graph.of_type("kubernetes:core/v1:NodePatch")[0]
    assert patch.inputs["metadata"]["labels"]["nvidia.com/mig.config"] == "kubeforge-a100"


def test_version_override_and_values_overrides_are_applied(project, onprem_platform, tenant_spec):
    onprem_platform["components"] = {
        "gpuOperator": {"version": "v26.3.3", "valuesOverrides": {"dcgmExporter": {"enabled": False}}},
    }
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    release = _release(graph)
    assert release["version"] == "v26.3.3"
    assert release["values"]["dcgmExporter"]["enabled"] is False
    assert release["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is True


def test_operator_managed_pools_must_share_one_driver(project, onprem_platform, tenant_spec):
    onprem_platform["onprem"] = {"driverInstall": "operator"}
    onprem_platform["nodePools"]["b100"] = {
        "gpu": {"model": "a100-40gb", "perNode": 8}, "driver": "580.65.06", "nodes": ["gpu-3"],
    }
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    with pytest.raises(ConfigError, match="installs one driver for the whole cluster, but pools pin 580.65.06, 580.95.05"):
        load_stack("test", project.path)


def test_disabled_operator_is_not_installed(project, onprem_platform, tenant_spec):
    onprem_platform["components"] = {"gpuOperator": {"enabled": False}}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert [r for r in graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "gpu-operator"] == []
    assert graph.of_type("kubeforge:gpu:GpuOperator") == []


def test_gke_gets_a_quota_admitting_the_operators_critical_pods(gcp_graph):
    quota = next(q for q in gcp_graph.of_type("kubernetes:core/v1:ResourceQuota") if q.name.endswith("critical-pods"))
    assert quota.inputs["metadata"]["namespace"] == "gpu-operator"
    (expr,) = quota.inputs["spec"]["scopeSelector"]["matchExpressions"]
    assert expr == {"scopeName": "PriorityClass", "operator": "In",
                    "values": ["system-node-critical", "system-cluster-critical"]}
    assert quota.inputs["spec"]["hard"]["pods"] == "96"  # 6 GPU nodes at most x 16
    release = next(r for r in gcp_graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "gpu-operator")
    assert quota.urn in release.dependencies


def test_other_targets_need_no_critical_pod_quota(aws_graph, local_graph):
    for graph in (aws_graph, local_graph):
        assert not [q for q in graph.of_type("kubernetes:core/v1:ResourceQuota") if q.name.endswith("critical-pods")]


# Read by the chart's templates though only commented in its values.yaml.
COMMENTED = {"dcgmExporter.config": "deployments/gpu-operator/templates/clusterpolicy.yaml:561 at v26.7.0 "
                                    "(.Values.dcgmExporter.config.name)"}


@pytest.mark.parametrize("graph_name", ["local_graph", "aws_graph", "gcp_graph"])
def test_every_operator_value_kubeforge_sets_exists_in_the_pinned_chart(request, graph_name):
    from tests.conftest import REFERENCE
    from tests.helm_values import assert_values_exist

    values = _release(request.getfixturevalue(graph_name))["values"]
    assert_values_exist(values, REFERENCE / "charts" / "gpu-operator" / PIN.version / "values.yaml", COMMENTED)


def test_operator_managed_driver_and_mig_values_exist_in_the_pinned_chart(project, onprem_platform, tenant_spec):
    from tests.conftest import REFERENCE
    from tests.helm_values import assert_values_exist

    onprem_platform["onprem"] = {"driverInstall": "operator"}
    onprem_platform["nodePools"]["a100"]["gpu"]["mig"] = {"strategy": "mixed", "layout": "3g.40gb,2g.20gb,1g.10gb"}
    values = _release(project.stack(onprem_platform).tenant("team-a", tenant_spec).preview())["values"]
    assert values["driver"]["version"] == "580.95.05"
    assert_values_exist(values, REFERENCE / "charts" / "gpu-operator" / PIN.version / "values.yaml", COMMENTED)
