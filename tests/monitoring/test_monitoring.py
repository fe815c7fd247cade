"""GPU monitoring: every dashboard and alert query names metrics the pinned exporters really
publish, the DCGM exporter is told to publish them, and the chart values exist upstream."""

from __future__ import annotations

import json
import re

import pytest

from components.monitoring import alerts, dcgm
from components.monitoring.dashboards import POD_LABELS, dashboards
from components.monitoring.stack import monitoring_values
from kubeforge.catalog import load_release
from tests.conftest import REFERENCE
from tests.helm_values import assert_values_exist

RELEASE = load_release("2026.12")
# PromQL words that are not metric names.
KEYWORDS = {"by", "on", "without", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: identifiers that are not functions
    (followed by "("), keywords, label names (inside {} or a grouping clause) or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)                             # label matchers
    text = re.sub(r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)                            # range selectors
    text = re.sub(r"(?<![A-Za-z0-9_:])\d+(\.\d+)?(e[+-]?\d+)?", " ", text)   # numbers, 1e9 included
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end():].lstrip()[:1]
        if word in KEYWORDS or following == "(" or re.fullmatch(r"\d+(e\d+)?", word):
            continue
        names.add(word)
    return names


def _queries() -> list[tuple[str, str]]:
    out = []
    for file, model in dashboards(gpu=True, volcano=True).items():
        for panel in model["panels"]:
            out += [(f"{file}: {panel['title']}", t["expr"]) for t in panel["targets"]]
        for variable in model["templating"]["list"]:
            # label_values(<series selector>, <label>): Grafana's, not PromQL's.
            selector = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["query"]["query"]).group(1)
            out.append((f"{file}: ${variable['name']}", selector))
    spec = alerts.prometheus_rule_spec(gpu=True, volcano=True)
    out += [(rule["alert"], rule["expr"]) for group in spec["groups"] for rule in group["rules"]]
    return out


PUBLISHED = frozenset().union(*(s.series_names() for s in RELEASE.metrics.values()))


def test_the_metric_name_parser_finds_names_and_only_names():
    expr = ('topk(5, sum by (namespace, pod) (rate(foo_total{a="x(y)", b=~"z"}[5m]) * on (pod) group_left (c) '
            'bar) / 1e9) > 0 and on (node) baz_bucket')
    assert metric_names(expr) == {"foo_total", "bar", "baz_bucket"}


@pytest.mark.parametrize("where,expr", _queries(), ids=[q[0] for q in _queries()])
def test_every_query_names_only_metrics_the_pinned_exporters_publish(where, expr):
    names = metric_names(expr)
    assert names, where
    assert names <= PUBLISHED, f"{where}: {sorted(names - PUBLISHED)} not published at the pins"


def test_an_unpublished_metric_would_be_caught():
    assert not metric_names("avg(DCGM_FI_DEV_CLOCK_THROTTLE_REASONS)") <= PUBLISHED  # absent at the pin


def test_every_dcgm_field_a_query_uses_is_enabled_in_kubeforges_exporter_file():
    used = {n for _, expr in _queries() for n in metric_names(expr) if n.startswith("DCGM_")}
    assert used and used <= dcgm.enabled_fields()


def test_kubeforges_dcgm_file_lists_only_fields_the_exporter_knows_in_its_format():
    known = set(RELEASE.metrics["dcgm"].metrics)
    for line in dcgm.metrics_csv().splitlines():
        field, kind, help_text = (part.strip() for part in line.split(",", 2))
        assert field in known, field
        assert kind in ("gauge", "counter", "label") and help_text


def test_the_gpu_operator_mounts_kubeforges_file_and_keeps_the_workloads_labels(local_graph):
    (release,) = [r for r in local_graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "gpu-operator"]
    exporter = release.inputs["values"]["dcgmExporter"]
    assert exporter["config"] == {"name": dcgm.CONFIG_MAP}
    assert exporter["serviceMonitor"]["honorLabels"] is True
    (config_map,) = [r for r in local_graph.of_type("kubernetes:core/v1:ConfigMap")
                     if r.inputs["metadata"]["name"] == dcgm.CONFIG_MAP]
    assert config_map.inputs["data"] == {dcgm.CONFIG_KEY: dcgm.metrics_csv()}
    assert config_map.urn in release.dependencies


def test_pod_labels_queried_are_the_ones_kube_state_metrics_is_allowed_to_export():
    def ksm_name(key: str) -> str:
        # label_ + snake_case(sanitised key): internal/store/utils.go at kube-state-metrics v2.20.0.
        return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key).lower()

    allowed = {ksm_name(k) for k in POD_LABELS}
    used = {m for _, expr in _queries() for m in re.findall(r"\blabel_[a-z0-9_]+", expr) if m != "label_values"}
    assert used and used <= allowed
    assert monitoring_values()["kube-state-metrics"]["metricLabelsAllowlist"] == [f"pods=[{','.join(POD_LABELS)}]"]


def test_alert_rules_cover_xid_ecc_throttling_and_nodes_without_healthy_gpus():
    rules = {r["alert"]: r for r in alerts.gpu_rules()}
    assert {"KubeforgeGpuXidError", "KubeforgeGpuNeedsReset", "KubeforgeGpuDoubleBitEcc",
            "KubeforgeGpuThermalThrottling", "KubeforgeGpuPowerThrottling",
            "KubeforgeGpuNodeWithoutHealthyGpus"} <= set(rules)
    assert all(f"== {code})" in rules["KubeforgeGpuNeedsReset"]["expr"] for code in (48, 79, 94, 95))
    assert all(r["labels"]["severity"] in ("info", "warning", "critical") and r["annotations"]["description"]
               for r in rules.values())


def test_dashboards_read_from_the_provisioned_datasource_with_distinct_panels():
    for model in dashboards(gpu=True, volcano=True).values():
        assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
        for panel in model["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        json.dumps(model)


def test_the_stack_writes_the_dashboards_the_rules_and_volcanos_monitors(local_graph):
    maps = {r.inputs["metadata"]["name"]: r.inputs for r in local_graph.of_type("kubernetes:core/v1:ConfigMap")
            if r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"}
    assert set(maps) == {"kubeforge-dashboard-gpus", "kubeforge-dashboard-tenants", "kubeforge-dashboard-queues"}
    monitors = {r.inputs["metadata"]["name"]: r.inputs for r in
                local_graph.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    assert monitors["volcano-scheduler"]["metadata"]["namespace"] == "volcano-system"
    release = next(r for r in local_graph.of_type("kubernetes:helm.sh/v3:Release")
                   if r.inputs["name"] == "kube-prometheus-stack")
    rules = local_graph.named("monitoring-rules")
    assert release.urn in rules.dependencies
    assert local_graph.outputs["grafanaAdminPassword"] == "[secret]"


def _subchart_split(values: dict) -> tuple[dict, dict[str, dict]]:
    subcharts = {"grafana": "grafana/12.11.1", "kube-state-metrics": "kube-state-metrics/8.4.0"}
    own = {k: v for k, v in values.items() if k not in subcharts}
    return own, {subcharts[k]: v for k, v in values.items() if k in subcharts}


def test_every_monitoring_value_is_in_the_charts_values():
    own, subcharts = _subchart_split(monitoring_values())
    assert_values_exist(own, REFERENCE / "charts" / "kube-prometheus-stack" / "88.5.3" / "values.yaml")
    for chart, values in subcharts.items():
        assert_values_exist(values, REFERENCE / "charts" / chart / "values.yaml")


def test_the_gpu_operators_exporter_values_are_in_its_chart(local_graph):
    (release,) = [r for r in local_graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "gpu-operator"]
    from tests.components.test_gpu_operator import COMMENTED

    exporter = {"dcgmExporter": release.inputs["values"]["dcgmExporter"]}
    assert_values_exist(exporter, REFERENCE / "charts" / "gpu-operator" / "v26.7.0" / "values.yaml", COMMENTED)
    assert not [k for k in exporter["dcgmExporter"]["config"] if k != "name"]


def test_the_gpu_operator_starts_after_the_prometheus_operators_crds(local_graph):
    release = next(r for r in local_graph.of_type("kubernetes:helm.sh/v3:Release")
                   if r.inputs["name"] == "kube-prometheus-stack")
    operator = local_graph.named("gpu-operator")
    assert release.urn in operator.dependencies
    # Only the release: not kubeforge's dashboards or rules.
    assert local_graph.named("monitoring-rules").urn not in operator.dependencies
