"""Grafana dashboards kubeforge writes: GPUs, tenants, queues (JSON models the Grafana sidecar loads).

Every query names only metrics the pinned exporters publish (catalog ``metrics``; tested):
DCGM series carry the workload's ``namespace`` and ``pod`` (the GPU Operator maps GPUs to
pods; kubeforge keeps the exporter's labels, ``honorLabels``) and ``node`` (relabelled from
the scrape target); kube-state-metrics writes extended resources as ``nvidia_com_gpu``;
Volcano's ``*_scalar_resources`` count milli-units (1 GPU = 1000) and its durations
milliseconds. Workloads are told apart by the pod labels kube-state-metrics is allowed to
export (:data:`POD_LABELS`).
Ref: https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
"""

from __future__ import annotations

from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
"""The Prometheus datasource kube-prometheus-stack provisions (grafana.sidecar.datasources.uid)."""

POD_LABELS = (
    # A TrainJob's pods: JobSet names them after the TrainJob (Trainer v2.1.0 has no label
    # of its own on pods; jobset v0.10.1 api/jobset/v1alpha2/jobset_types.go).
    "jobset.sigs.k8s.io/jobset-name",
    # Katib's pod webhook (v0.19.0 pkg/controller.v1beta1/consts/const.go).
    "katib.kubeflow.org/experiment",
    "katib.kubeflow.org/trial",
    # The notebook controller (kubeflow v1.10.0 notebook_controller.go).
    "notebook-name",
)
"""Pod labels kube-state-metrics exports as ``label_<snake_case>`` on ``kube_pod_labels``."""

GPU = 'resource="nvidia_com_gpu"'


def _held(*matchers: str) -> str:
    """GPUs a scheduled pod's containers hold (a pending pod has no node yet)."""
    selector = ", ".join((GPU, 'node!=""', *matchers))
    return f"kube_pod_container_resource_requests{{{selector}}}"


HELD = _held()
TRAINJOB = "label_jobset_sigs_k8s_io_jobset_name"
EXPERIMENT = "label_katib_kubeflow_org_experiment"
NOTEBOOK = "label_notebook_name"


def _panel(title: str, targets: list[tuple[str, str]], *, unit: str = "short", kind: str = "timeseries",
           width: int = 12) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "datasource": dict(DATASOURCE),
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"w": width, "h": 8},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
                     "datasource": dict(DATASOURCE), **({"format": "table", "instant": True} if kind == "table" else {})}
                    for i, (expr, legend) in enumerate(targets)],
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]], variables: list[dict[str, Any]] = ()) -> dict:
    x = y = 0
    for panel in panels:  # two columns, rows of equal height
        w = panel["gridPos"]["w"]
        if x + w > 24:
            x, y = 0, y + 8
        panel["gridPos"].update(x=x, y=y)
        panel["id"] = len([p for p in panels if "id" in p]) + 1
        x += w
    return {
        "uid": uid, "title": title, "tags": ["kubeforge"], "editable": False, "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "1m", "timezone": "browser",
        "templating": {"list": list(variables)}, "panels": panels,
    }


def _tenant_variable() -> dict[str, Any]:
    # Tenants are the namespaces with a GPU quota (components/tenancy).
    query = 'label_values(kube_resourcequota{resource="requests.nvidia.com/gpu"}, namespace)'
    return {"name": "tenant", "label": "Tenant", "type": "query", "datasource": dict(DATASOURCE),
            "query": {"query": query, "refId": "tenant"}, "definition": query, "multi": True, "includeAll": True,
            "refresh": 2}


def gpu_dashboard() -> dict[str, Any]:
    util = "DCGM_FI_DEV_GPU_UTIL"
    return _dashboard("kubeforge-gpus", "kubeforge / GPUs", [
        _panel("GPUs held by running pods, of allocatable", [
            (f"sum({HELD})", "held"),
            (f"sum(kube_node_status_allocatable{{{GPU}}})", "allocatable"),
        ], kind="stat"),
        _panel("GPU utilisation by node", [(f"avg by (node) ({util})", "{{node}}")], unit="percent"),
        _panel("GPU memory used by node", [
            ("sum by (node) (DCGM_FI_DEV_FB_USED) / sum by (node) (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)",
             "{{node}}")], unit="percentunit"),
        _panel("GPU utilisation by tenant", [(f'avg by (namespace) ({util}{{namespace!=""}})', "{{namespace}}")],
               unit="percent"),
        _panel("GPU memory used by tenant", [
            ('sum by (namespace) (DCGM_FI_DEV_FB_USED{namespace!=""}) * 1024 * 1024', "{{namespace}}")], unit="bytes"),
        _panel("GPU utilisation by training job", [(
            f'avg by (namespace, {TRAINJOB}) ({util}{{pod!=""}} * on (namespace, pod) group_left ({TRAINJOB}) '
            f'kube_pod_labels{{{TRAINJOB}!=""}})', "{{namespace}}/{{" + TRAINJOB + "}}")], unit="percent"),
        _panel("Tensor core activity by pod", [
            ('avg by (namespace, pod) (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{pod!=""})', "{{namespace}}/{{pod}}")],
            unit="percentunit"),
        # What the seed platform's administrators look for: who holds the most GPUs, and how
        # much of them they use.
        _panel("Pods holding the most GPUs, and how much they use them", [
            (f"topk(20, sum by (namespace, pod) ({HELD}))", "GPUs"),
            (f'avg by (namespace, pod) ({util}{{pod!=""}})', "utilisation %"),
        ], kind="table", width=24),
        _panel("GPU temperature by node", [("max by (node) (DCGM_FI_DEV_GPU_TEMP)", "{{node}}")], unit="celsius"),
        _panel("GPU power by node", [("sum by (node) (DCGM_FI_DEV_POWER_USAGE)", "{{node}}")], unit="watt"),
        _panel("XID errors", [("max by (node, gpu) (DCGM_FI_DEV_XID_ERRORS) > 0", "{{node}} GPU {{gpu}}")]),
        _panel("Time slowed down (thermal, power)", [
            ("sum by (node) (rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m])) / 1e9", "{{node}} thermal"),
            ("sum by (node) (rate(DCGM_FI_DEV_POWER_VIOLATION[5m])) / 1e9", "{{node}} power"),
        ], unit="percentunit"),
    ])


def tenant_dashboard() -> dict[str, Any]:
    selected = 'namespace=~"$tenant"'
    return _dashboard("kubeforge-tenants", "kubeforge / Tenants", [
        _panel("GPUs held, by tenant", [(f"sum by (namespace) ({_held(selected)})", "{{namespace}}")]),
        _panel("GPU quota, by tenant", [(
            f'sum by (namespace) (kube_resourcequota{{resource="requests.nvidia.com/gpu", type="hard", {selected}}})',
            "{{namespace}}")]),
        _panel("Notebooks running, by tenant", [(
            f'count by (namespace) (kube_pod_labels{{{NOTEBOOK}!="", {selected}}} * on (namespace, pod) '
            f'group_left () (kube_pod_status_phase{{phase="Running"}} == 1))', "{{namespace}}")]),
        _panel("Training jobs running, by tenant", [(
            f'count by (namespace) (count by (namespace, {TRAINJOB}) (kube_pod_labels{{{TRAINJOB}!="", {selected}}} '
            f'* on (namespace, pod) group_left () (kube_pod_status_phase{{phase="Running"}} == 1)))', "{{namespace}}")]),
        _panel("Tuning experiments running, by tenant", [(
            f'count by (namespace) (count by (namespace, {EXPERIMENT}) (kube_pod_labels{{{EXPERIMENT}!="", {selected}}} '
            f'* on (namespace, pod) group_left () (kube_pod_status_phase{{phase="Running"}} == 1)))', "{{namespace}}")]),
        _panel("GPUs held by notebooks, by tenant", [(
            f'sum by (namespace) ({_held(selected)} * on (namespace, pod) group_left () '
            f'kube_pod_labels{{{NOTEBOOK}!=""}})', "{{namespace}}")]),
    ], [_tenant_variable()])


def queue_dashboard() -> dict[str, Any]:
    gpus = 'resource="nvidia.com/gpu"'
    return _dashboard("kubeforge-queues", "kubeforge / Queues", [
        _panel("Jobs waiting, by queue", [("sum by (queue_name) (volcano_queue_pod_group_pending_count)",
                                           "{{queue_name}} pending"),
                                          ("sum by (queue_name) (volcano_queue_pod_group_inqueue_count)",
                                           "{{queue_name}} admitted")]),
        _panel("Jobs running, by queue", [("sum by (queue_name) (volcano_queue_pod_group_running_count)",
                                           "{{queue_name}}")]),
        _panel("Longest wait to be scheduled, by queue", [
            ("max by (queue) (volcano_e2e_job_scheduling_duration) / 1000", "{{queue}}")], unit="s"),
        _panel("Scheduling latency of jobs (p95)", [(
            "histogram_quantile(0.95, sum by (le) (rate(volcano_e2e_job_scheduling_latency_milliseconds_bucket[10m])))"
            " / 1000", "p95")], unit="s"),
        _panel("GPUs allocated and deserved, by queue", [
            (f"sum by (queue_name) (volcano_queue_allocated_scalar_resources{{{gpus}}}) / 1000", "{{queue_name}} allocated"),
            (f"sum by (queue_name) (volcano_queue_deserved_scalar_resources{{{gpus}}}) / 1000", "{{queue_name}} deserved"),
        ]),
        _panel("Jobs the scheduler could not place", [("volcano_unschedule_job_count", "jobs")]),
    ])


def dashboards(*, gpu: bool, volcano: bool) -> dict[str, dict[str, Any]]:
    """The dashboards a stack gets, by file name."""
    out = {"tenants.json": tenant_dashboard()}
    if gpu:
        out["gpus.json"] = gpu_dashboard()
    if volcano:
        out["queues.json"] = queue_dashboard()
    return out
