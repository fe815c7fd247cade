"""kube-prometheus-stack from its chart, and what kubeforge adds to it: scrape targets for
Volcano, dashboards for GPUs, tenants and queues, alert rules for GPU faults.

Prometheus selects every ServiceMonitor, PodMonitor and PrometheusRule in the cluster (the
chart would otherwise select only those labelled with its release), so the GPU Operator's
DCGM ServiceMonitor and kubeforge's own are scraped without extra labels. Grafana's admin
password is generated and kept in a Secret; Grafana is reached with
``kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.component import ClusterAccess, PlatformComponent
from components.helm import custom_resource, helm_release
from components.labels import recommended_labels
from components.monitoring.alerts import prometheus_rule_spec
from components.monitoring.dashboards import POD_LABELS, dashboards
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

RELEASE = "kube-prometheus-stack"
GRAFANA_SECRET = "kubeforge-grafana-admin"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
"""The label kube-prometheus-stack's Grafana sidecar loads dashboards by (88.5.3 values)."""


@dataclass(frozen=True)
class MonitoringArgs:
    component: ResolvedComponent
    """The pinned kube-prometheus-stack chart."""
    gpu: bool
    """The stack has GPU pools: GPU dashboards and alert rules."""
    volcano_namespace: str | None
    """Volcano's namespace where it is installed: its scrape targets, queue dashboard and rules."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def monitoring_values() -> dict[str, Any]:
    """The chart's values. Ref: ../shared/reference/charts/kube-prometheus-stack/88.5.3/values.yaml"""
    return {
        "prometheus": {"prometheusSpec": {
            # Select every ServiceMonitor, PodMonitor and PrometheusRule, not only the chart's.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "retention": "15d",
            # Metrics survive a Prometheus restart (the chart's default is an emptyDir).
            "storageSpec": {"volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}}}},
        }},
        "grafana": {"admin": {"existingSecret": GRAFANA_SECRET}},
        # The workload labels the tenant dashboards group GPUs by.
        # Ref: https://github.com/kubernetes/kube-state-metrics/blob/v2.20.0/docs/developer/cli-arguments.md
        "kube-state-metrics": {"metricLabelsAllowlist": [f"pods=[{','.join(POD_LABELS)}]"]},
    }


def volcano_monitors(namespace: str) -> dict[str, dict[str, Any]]:
    """ServiceMonitors for the Volcano scheduler (:8080, queue resources, scheduling latency)
    and controllers (:8081, jobs per queue); the chart ships Services but no monitor
    (installer/helm/chart/volcano/templates/{scheduler,controllers}.yaml at v1.15.1)."""
    def monitor(app: str) -> dict[str, Any]:
        return {"selector": {"matchLabels": {"app": app}}, "namespaceSelector": {"matchNames": [namespace]},
                "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}]}
    return {"volcano-scheduler": monitor("volcano-scheduler"), "volcano-controllers": monitor("volcano-controller")}


class Monitoring(PlatformComponent):
    """Prometheus, Grafana, kube-state-metrics and node exporter; kubeforge's dashboards and alerts."""

    key = "monitoring"
    type_token = "kubeforge:monitoring:Monitoring"
    section = "components.monitoring"
    depends_on = ("namespaces",)
    args_type = MonitoringArgs
    concern = "monitoring"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, MonitoringArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        volcano = stack.components.get("volcano")
        return {cls.default_name(): MonitoringArgs(
            component=component, gpu=bool(stack.gpu_pools), volcano_namespace=volcano.namespace if volcano else None,
            provider=cluster.provider,
        )}

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        namespace = args.component.namespace
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = recommended_labels(name="monitoring", instance=name, component=self.concern)
        password = random.RandomPassword(f"{name}-grafana-admin", length=32, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin", metadata={"name": GRAFANA_SECRET, "namespace": namespace, "labels": labels},
            string_data={"admin-user": "admin", "admin-password": password.result}, opts=child)
        self.grafana_password = pulumi.Output.secret(password.result)
        self.release = helm_release(f"{name}-release", args.component, release_name=RELEASE,
                                    values=monitoring_values(), provider=args.provider,
                                    opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]))
        for file, model in dashboards(gpu=args.gpu, volcano=args.volcano_namespace is not None).items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{file.removesuffix('.json')}",
                metadata={"name": f"kubeforge-dashboard-{file.removesuffix('.json')}", "namespace": namespace,
                          "labels": {**labels, **DASHBOARD_LABEL}},
                data={file: json.dumps(model, indent=1, sort_keys=True)},
                opts=child,
            )
        after_crds = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.release]))
        spec = prometheus_rule_spec(gpu=args.gpu, volcano=args.volcano_namespace is not None)
        if spec["groups"]:
            custom_resource(f"{name}-rules", "monitoring.coreos.com/v1", "PrometheusRule", name="kubeforge",
                            namespace=namespace, labels=labels, spec=spec, opts=after_crds)
        if args.volcano_namespace is not None:
            for monitor, monitor_spec in volcano_monitors(args.volcano_namespace).items():
                custom_resource(f"{name}-{monitor}", "monitoring.coreos.com/v1", "ServiceMonitor", name=monitor,
                                namespace=args.volcano_namespace, labels=labels, spec=monitor_spec, opts=after_crds)
        self.register_outputs({"version": args.component.version})

    def ready(self) -> list[pulumi.Resource]:
        # Dependents (the GPU Operator) need the Prometheus Operator's CRDs, which come with
        # the release, not kubeforge's dashboards and rules.
        return [self.release]

    def stack_outputs(self) -> dict[str, pulumi.Output]:
        return {"grafanaAdminPassword": self.grafana_password}
