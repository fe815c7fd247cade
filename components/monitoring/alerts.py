"""Alert rules for GPU faults, as a PrometheusRule kube-prometheus-stack's Prometheus loads.

Each rule says what an administrator does about it. XID meanings:
https://docs.nvidia.com/deploy/xid-errors/index.html ; row remapping:
https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/index.html
"""

from __future__ import annotations

from typing import Any

# XIDs after which the GPU needs a reset or the node a drain: 48 double-bit ECC, 79 fallen off
# the bus, 94/95 contained/uncontained ECC error, 119/120 GSP timeout/error.
# Ref: https://docs.nvidia.com/deploy/xid-errors/index.html#xid-error-listing
RESET_XIDS = (48, 79, 94, 95, 119, 120)
GPU = 'resource="nvidia_com_gpu"'


def _rule(alert: str, expr: str, severity: str, summary: str, action: str, for_: str = "0m") -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": for_, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": action}}


def gpu_rules() -> list[dict[str, Any]]:
    xid = "max by (node, gpu, UUID) (max_over_time(DCGM_FI_DEV_XID_ERRORS[5m]))"
    reset = " or ".join(f"({xid} == {code})" for code in RESET_XIDS)
    return [
        _rule("KubeforgeGpuXidError", f"{xid} > 0", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} reported XID {{ $value }}",
              "Look the XID up in NVIDIA's XID catalogue; application XIDs (13, 31, 43) are usually the job's."),
        _rule("KubeforgeGpuNeedsReset", reset, "critical",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} reported XID {{ $value }}, which needs a GPU reset",
              "Cordon and drain the node, reset the GPU (or reboot); replace it if the XID returns."),
        _rule("KubeforgeGpuDoubleBitEcc", "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0", "critical",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} had uncorrectable (double-bit) ECC errors",
              "Jobs on this GPU may have computed on corrupt memory: drain the node and let row remapping "
              "complete with a GPU reset."),
        _rule("KubeforgeGpuSingleBitEccStorm", "increase(DCGM_FI_DEV_ECC_SBE_VOL_TOTAL[1h]) > 1000", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} corrects many single-bit ECC errors",
              "Memory is degrading: plan a replacement."),
        _rule("KubeforgeGpuRowRemapFailure", "max by (node, gpu, UUID) (DCGM_FI_DEV_ROW_REMAP_FAILURE) > 0",
              "critical", "GPU {{ $labels.gpu }} on {{ $labels.node }} ran out of spare memory rows",
              "The GPU can no longer repair its memory: take the node out of service and replace the GPU."),
        # *_VIOLATION counters count nanoseconds slowed down: a rate of 1e9 is throttled all the time.
        _rule("KubeforgeGpuThermalThrottling", "rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m]) / 1e9 > 0.1", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} is slowed down by heat {{ $value | humanizePercentage }} "
              "of the time", "Check the node's cooling and airflow.", for_="15m"),
        _rule("KubeforgeGpuPowerThrottling", "rate(DCGM_FI_DEV_POWER_VIOLATION[5m]) / 1e9 > 0.5", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} is held at its power limit "
              "{{ $value | humanizePercentage }} of the time", "Check the power limit and the node's power supply.",
              for_="30m"),
        # The device plugin reports an unhealthy GPU as not allocatable.
        _rule("KubeforgeGpuNodeWithoutHealthyGpus",
              f"(kube_node_status_capacity{{{GPU}}} > 0) and on (node) (kube_node_status_allocatable{{{GPU}}} == 0)",
              "critical", "GPU node {{ $labels.node }} has no healthy GPU",
              "The device plugin marked every GPU unhealthy: check the driver (nvidia-smi) and the node's "
              "validation (gpu-drivers/validate).", for_="10m"),
        _rule("KubeforgeGpuNodeLostGpus",
              f"(kube_node_status_allocatable{{{GPU}}} > 0) and on (node) "
              f"(kube_node_status_allocatable{{{GPU}}} < on (node) kube_node_status_capacity{{{GPU}}})",
              "warning", "GPU node {{ $labels.node }} has unhealthy GPUs",
              "Some GPUs are out of service: look for XID alerts on this node.", for_="10m"),
    ]


def scheduling_rules() -> list[dict[str, Any]]:
    return [
        _rule("KubeforgeQueueStarved", "max by (queue_name) (volcano_queue_pod_group_pending_count) > 0", "info",
              "Queue {{ $labels.queue_name }} has had pending jobs for an hour",
              "See the Queues dashboard: the jobs holding the most GPUs, and whether the queue's guarantee "
              "is reclaimable.", for_="1h"),
    ]


def prometheus_rule_spec(*, gpu: bool, volcano: bool) -> dict[str, Any]:
    groups = []
    if gpu:
        groups.append({"name": "kubeforge-gpu", "rules": gpu_rules()})
    if volcano:
        groups.append({"name": "kubeforge-scheduling", "rules": scheduling_rules()})
    return {"groups": groups}
