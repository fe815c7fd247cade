"""Small resources in the shapes the engine records (inputs as kubeforge's graphs show them)."""

from __future__ import annotations

from typing import Any

from kubeforge_policies.model import PolicyResource

API = {
    "Namespace": "core/v1", "ResourceQuota": "core/v1", "LimitRange": "core/v1", "ConfigMap": "core/v1",
    "PersistentVolumeClaim": "core/v1", "NodePatch": "core/v1", "Pod": "core/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1", "DaemonSet": "apps/v1", "Deployment": "apps/v1",
    "CronJob": "batch/v1", "Queue": "scheduling.volcano.sh/v1beta1", "StorageClass": "storage.k8s.io/v1",
}


def res(type_: str, props: dict[str, Any] | None = None, name: str = "subject", *, protect: bool = False,
        retain: bool | None = False, deps: tuple[str, ...] = ()) -> PolicyResource:
    return PolicyResource(type=type_, name=name, urn=f"urn:pulumi:test::kubeforge::{type_}::{name}",
                          props=props or {}, options={"protect": protect, "retainOnDelete": retain},
                          dependencies=deps)


def k8s(kind: str, name: str, namespace: str | None = None, *, labels: dict | None = None,
        annotations: dict | None = None, resource_name: str | None = None, **fields: Any) -> PolicyResource:
    api = API[kind]
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    group_version = api if "/" in api else f"core/{api}"
    api_version = api.removeprefix("core/")
    kind_token = kind.removesuffix("Patch") if kind.endswith("Patch") else kind
    return res(f"kubernetes:{group_version}:{kind}",
               {"apiVersion": api_version, "kind": kind_token, "metadata": metadata, **fields},
               resource_name or f"{kind.lower()}-{namespace + '-' if namespace else ''}{name}")


def tenant(name: str, *, queue: str | None = None, psa: str = "restricted", gpus: int = 4,
           guarantee: int = 2) -> list[PolicyResource]:
    """A tenant as kubeforge builds it: namespace, quota, limits, default-deny, queue."""
    label = {"kubeforge.io/tenant": name}
    return [
        k8s("Namespace", name, labels={**label, "pod-security.kubernetes.io/enforce": psa},
            annotations={"scheduling.volcano.sh/queue-name": queue or name}, resource_name=f"tenant-{name}-namespace"),
        k8s("ResourceQuota", f"{name}-quota", name, labels=label,
            spec={"hard": {"requests.cpu": "8", "requests.memory": "64Gi", "requests.nvidia.com/gpu": str(gpus)}}),
        k8s("LimitRange", f"{name}-defaults", name, labels=label, spec={"limits": [
            {"type": "Container", "default": {"cpu": "2", "memory": "4Gi"},
             "defaultRequest": {"cpu": "500m", "memory": "1Gi"}}]}),
        k8s("NetworkPolicy", f"{name}-default-deny", name, labels=label,
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        k8s("Queue", queue or name, labels=label, resource_name=f"tenant-{name}-queue",
            spec={"capability": {"nvidia.com/gpu": str(gpus)}, "guarantee": {"resource": {"nvidia.com/gpu": str(guarantee)}}}),
    ]


def gpu_node_group(name: str = "cluster-a100", *, driver: str = "580.95.05", model: str = "a100-80gb",
                   per_node: int = 8, max_size: int = 2, taints: bool = True, mig: str | None = None) -> PolicyResource:
    labels = {"kubeforge.io/gpu-driver": driver, "kubeforge.io/gpu-model": model,
              "kubeforge.io/gpus-per-node": str(per_node), "kubeforge.io/node-pool": name.removeprefix("cluster-")}
    if mig:
        labels["nvidia.com/mig.config"] = mig
    return res("aws:eks/nodeGroup:NodeGroup", {
        "amiType": "AL2023_x86_64_NVIDIA", "instanceTypes": ["p4de.24xlarge"], "labels": labels,
        "launchTemplate": {"id": "lt-1", "version": "1"},
        "scalingConfig": {"minSize": 0, "maxSize": max_size, "desiredSize": 0},
        "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}] if taints else [],
    }, name)


def daemonset(name: str, namespace: str, *, privileged: bool = False, host_pid: bool = False,
              image: str = "registry.k8s.io/pause:3.10", limits: bool = True, requests: bool = True,
              host_path: bool = False) -> PolicyResource:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = {"cpu": "10m", "memory": "16Mi"}
    if limits:
        resources["limits"] = {"memory": "64Mi"}
    container = {"name": "main", "image": image, "resources": resources}
    if privileged:
        container["securityContext"] = {"privileged": True}
    spec: dict[str, Any] = {"containers": [container]}
    if host_pid:
        spec["hostPID"] = True
    if host_path:
        spec["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    return k8s("DaemonSet", name, namespace, resource_name=f"ds-{name}", spec={"template": {"spec": spec}})
