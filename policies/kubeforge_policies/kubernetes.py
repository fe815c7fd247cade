"""Kubernetes objects: every tenant namespace fenced (quota with GPUs, LimitRange, default-deny
NetworkPolicy, Pod Security labels), no cluster-admin for tenants, and pods that run without
privilege or host access (except an allowlist, each entry with its reason), with pinned
images and resource requests and limits.

What these rules see: the objects kubeforge creates itself (Deployments, DaemonSets, Jobs,
CronJobs, Pods, StatefulSets...). The pods a Helm release or a kustomize directory renders
are not in the graph, offline or under ``pulumi preview`` (a ``helm.sh/v3:Release`` is one
resource), so the charts' own pods are checked by the admission policies in the cluster,
not here; their pins are checked by :mod:`kubeforge_policies.supply_chain`. Patches
(``DeploymentPatch`` ...) change upstream objects partially and are not workloads here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeforge_policies.model import (
    TENANT_LABEL,
    PolicyResource,
    as_dict,
    as_list,
    is_true,
    stack_index,
    tenant_namespaces,
)
from kubeforge_policies.rule import Issue, Rule

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob")
WORKLOAD_TYPES = tuple(f"kubernetes:*:{k}" for k in WORKLOAD_KINDS)
HOST_ACCESS = ("hostNetwork", "hostPID", "hostIPC", "hostPath", "hostPort")
# Capabilities that amount to root on the node.
# Ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline: capabilities)
DANGEROUS_CAPABILITIES = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "BPF"}
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True)
class HostAccessException:
    """Platform pods that need privilege or host access to do their job at all."""

    namespace: str
    name: str
    """A glob on metadata.name."""
    kinds: tuple[str, ...]
    allows: frozenset[str]
    """What it may have: "privileged", "capabilities" and the entries of HOST_ACCESS."""
    reason: str
    reference: str

    def matches(self, r: PolicyResource) -> bool:
        return (r.kind in self.kinds and r.namespace == self.namespace
                and fnmatch.fnmatchcase(str(r.k8s_name or ""), self.name))


HOST_ACCESS_ALLOWLIST: tuple[HostAccessException, ...] = (
    HostAccessException(
        "kube-system", "nvidia-driver-*", ("DaemonSet",),
        frozenset({"privileged", "hostNetwork", "hostPID", "hostPath"}),
        "kubeforge's GKE driver installer (components/gpu/cos_driver.py) runs Google's cos-gpu-installer, which "
        "loads the NVIDIA kernel module on the node: it needs the host's /dev, root filesystem and PID namespace",
        "https://cloud.google.com/kubernetes-engine/docs/how-to/gpus#installing_drivers"),
    HostAccessException(
        "gpu-operator", "nvidia-driver-daemonset*", ("DaemonSet",),
        frozenset({"privileged", "hostPID", "hostPath"}),
        "the GPU Operator's driver container builds and loads the NVIDIA kernel module on the host",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/platform-support.html"),
    HostAccessException(
        "gpu-operator", "nvidia-container-toolkit-daemonset*", ("DaemonSet",),
        frozenset({"privileged", "hostPID", "hostPath"}),
        "the NVIDIA container toolkit writes the container runtime's configuration on the host",
        "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/index.html"),
    HostAccessException(
        "gpu-operator", "nvidia-mig-manager*", ("DaemonSet",),
        frozenset({"privileged", "hostPID", "hostPath"}),
        "the MIG manager repartitions the node's GPUs and restarts the GPU clients on the host",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html"),
    HostAccessException(
        "kube-system", "efs-csi-node*", ("DaemonSet",),
        frozenset({"privileged", "hostNetwork", "hostPath"}),
        "a CSI node plugin mounts volumes into the kubelet's pod directories on the host",
        "https://kubernetes-csi.github.io/docs/deploying.html"),
    HostAccessException(
        "kube-system", "csi-nfs-node*", ("DaemonSet",),
        frozenset({"privileged", "hostNetwork", "hostPath"}),
        "a CSI node plugin mounts volumes into the kubelet's pod directories on the host",
        "https://kubernetes-csi.github.io/docs/deploying.html"),
    HostAccessException(
        "istio-system", "istio-cni-node*", ("DaemonSet",),
        frozenset({"privileged", "hostNetwork", "hostPath"}),
        "Istio's CNI plugin installs itself into the node's CNI configuration and sets up pod traffic redirection "
        "in place of privileged init containers in every pod",
        "https://istio.io/latest/docs/setup/additional-setup/cni/"),
)


def pod_spec(r: PolicyResource) -> Mapping[str, Any]:
    if r.kind == "Pod":
        return as_dict(r.get("spec"))
    if r.kind == "CronJob":
        return as_dict(r.get("spec", "jobTemplate", "spec", "template", "spec"))
    return as_dict(r.get("spec", "template", "spec"))


def containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_dict(c) for key in ("initContainers", "containers", "ephemeralContainers")
            for c in as_list(spec.get(key))]


def _exceptions(r: PolicyResource, params: Mapping[str, Any]) -> set[str]:
    allowed: set[str] = set()
    extra = [HostAccessException(e["namespace"], e["name"], tuple(e.get("kinds") or WORKLOAD_KINDS),
                                 frozenset(e.get("allows") or ()), e["reason"], e.get("reference", ""))
             for e in params.get("extraAllowlist") or () if e.get("reason")]
    for entry in (*HOST_ACCESS_ALLOWLIST, *extra):
        if entry.matches(r):
            allowed |= entry.allows
    return allowed


def _where(r: PolicyResource) -> str:
    return f"{r.kind} {r.namespace or 'default'}/{r.k8s_name}"


def no_privileged(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    allowed = _exceptions(r, params)
    for c in containers(pod_spec(r)):
        context = as_dict(c.get("securityContext"))
        if is_true(context.get("privileged", False)) and "privileged" not in allowed:
            yield Issue(f"container {c.get('name')} of {_where(r)} is privileged",
                        "drop securityContext.privileged, or add the workload to the host-access allowlist with "
                        "its reason")
        added = {str(x) for x in as_list(as_dict(context.get("capabilities")).get("add"))} & DANGEROUS_CAPABILITIES
        if added and "capabilities" not in allowed and "privileged" not in allowed:
            yield Issue(f"container {c.get('name')} of {_where(r)} adds capabilities {', '.join(sorted(added))}",
                        "drop them from securityContext.capabilities.add")


def no_host_access(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    allowed = _exceptions(r, params)
    spec = pod_spec(r)
    found = [f for f in ("hostNetwork", "hostPID", "hostIPC") if is_true(spec.get(f, False))]
    paths = [as_dict(v).get("name") for v in as_list(spec.get("volumes")) if as_dict(v).get("hostPath") is not None]
    if paths:
        found.append("hostPath")
    if any(as_dict(p).get("hostPort") for c in containers(spec) for p in as_list(c.get("ports"))):
        found.append("hostPort")
    denied = [f for f in found if f not in allowed]
    if denied:
        detail = f" (volumes {', '.join(map(str, paths))})" if "hostPath" in denied else ""
        yield Issue(f"{_where(r)} uses {', '.join(denied)}{detail}",
                    "remove the host access, or add the workload to the host-access allowlist with its reason")


def _image_pinned(image: str, require_digest: bool) -> bool:
    if "@sha256:" in image:
        return True
    if require_digest:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[-1] not in ("", "latest")


def images_pinned(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    digest = bool(params.get("requireDigest", False))
    for c in containers(pod_spec(r)):
        image = str(c.get("image") or "")
        if not _image_pinned(image, digest):
            yield Issue(f"container {c.get('name')} of {_where(r)} runs image {image or '(none)'}, "
                        f"{'not pinned by digest' if digest else 'with no tag or :latest'}",
                        "pin the image to a release tag or digest from the catalog (kubeforge/catalog/releases)")


def resource_requests(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for c in containers(pod_spec(r)):
        requests = as_dict(as_dict(c.get("resources")).get("requests"))
        missing = [k for k in ("cpu", "memory") if not requests.get(k)]
        if missing:
            yield Issue(f"container {c.get('name')} of {_where(r)} requests no {' or '.join(missing)}",
                        f"set resources.requests.{' and resources.requests.'.join(missing)}")


def memory_limits(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for c in containers(pod_spec(r)):
        if not as_dict(as_dict(c.get("resources")).get("limits")).get("memory"):
            yield Issue(f"container {c.get('name')} of {_where(r)} has no memory limit, so a leak takes the "
                        "node's memory from its neighbours", "set resources.limits.memory")


def tenant_pod_security(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not r.labels.get(TENANT_LABEL):
        return
    allowed = list(params.get("allowedLevels") or [])
    level = r.labels.get(PSA_ENFORCE)
    if level not in allowed:
        yield Issue(f"tenant namespace {r.k8s_name} enforces Pod Security level {level or '(none)'}",
                    f"label it {PSA_ENFORCE}: {' or '.join(allowed)}")


# --- tenant namespaces' fences: stack rules ---------------------------------------------


def _in_namespace(resources: Sequence[PolicyResource], kind: str, namespace: str) -> list[PolicyResource]:
    return stack_index(resources).by_kind_namespace.get((kind, namespace), [])


def tenant_resource_quota(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    required = list(params.get("requiredKeys") or [])
    for ns in tenant_namespaces(resources):
        quotas = [q for q in _in_namespace(resources, "ResourceQuota", ns.k8s_name)
                  if not q.get("spec", "scopeSelector") and not q.get("spec", "scopes")]
        keys = {k for q in quotas for k in as_dict(q.get("spec", "hard"))}
        missing = [k for k in required if k not in keys]
        if missing:
            yield Issue(f"tenant namespace {ns.k8s_name} has no ResourceQuota on {', '.join(missing)}",
                        f"add a ResourceQuota in {ns.k8s_name} whose spec.hard sets {', '.join(missing)}", ns)


def tenant_limit_range(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    for ns in tenant_namespaces(resources):
        limits = [as_dict(x) for lr in _in_namespace(resources, "LimitRange", ns.k8s_name)
                  for x in as_list(lr.get("spec", "limits"))]
        if not any(x.get("type") == "Container" and x.get("defaultRequest") and x.get("default") for x in limits):
            yield Issue(f"tenant namespace {ns.k8s_name} has no LimitRange giving containers default requests and "
                        "limits, so a pod without them escapes the quota's accounting",
                        f"add a LimitRange in {ns.k8s_name} with a Container entry setting default and defaultRequest",
                        ns)


def _selects_all(policy: PolicyResource) -> bool:
    selector = as_dict(policy.get("spec", "podSelector"))
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def tenant_default_deny(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    for ns in tenant_namespaces(resources):
        denied = set()
        for p in _in_namespace(resources, "NetworkPolicy", ns.k8s_name):
            if not _selects_all(p):
                continue
            types = set(as_list(p.get("spec", "policyTypes"))) or {"Ingress"}
            if "Ingress" in types and not as_list(p.get("spec", "ingress")):
                denied.add("Ingress")
            if "Egress" in types and not as_list(p.get("spec", "egress")):
                denied.add("Egress")
        missing = sorted({"Ingress", "Egress"} - denied)
        if missing:
            yield Issue(f"tenant namespace {ns.k8s_name} has no default-deny NetworkPolicy for {' and '.join(missing)}",
                        f"add a NetworkPolicy in {ns.k8s_name} with podSelector {{}}, policyTypes [Ingress, Egress] "
                        "and no rules; allow what tenants need with further policies", ns)


CLUSTER_ADMIN = "cluster-admin"


def no_cluster_admin_for_tenants(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    tenants = {ns.k8s_name for ns in tenant_namespaces(resources)}
    bindings = [r for r in resources if r.is_kubernetes and r.kind in ("RoleBinding", "ClusterRoleBinding")]
    # Who the tenants are: every subject their namespaces' bindings name, and their service accounts.
    members = {(s.get("kind"), s.get("name")) for b in bindings if b.namespace in tenants
               for s in map(as_dict, as_list(b.get("subjects"))) if s.get("kind") in ("User", "Group")}
    for b in bindings:
        if b.get("roleRef", "name") != CLUSTER_ADMIN:
            continue
        who = []
        for s in map(as_dict, as_list(b.get("subjects"))):
            kind, name = s.get("kind"), s.get("name")
            if (kind == "ServiceAccount" and s.get("namespace", b.namespace) in tenants) or (kind, name) in members \
                    or (kind == "Group" and any(name == f"system:serviceaccounts:{t}" for t in tenants)):
                who.append(f"{kind} {name}")
        if b.kind == "RoleBinding" and b.namespace in tenants:
            who.append(f"everyone bound in tenant namespace {b.namespace}")
        if who:
            yield Issue(f"binds cluster-admin to tenant {', '.join(who)}",
                        "bind tenants to kubeflow-edit / kubeflow-view or the namespaced admin ClusterRole in their "
                        "own namespace", b)


RULES = (
    Rule("k8s-pod-no-privileged", "Platform pods are not privileged and add no root-equivalent capabilities, "
         "except allowlisted ones (each with its reason).", "critical", no_privileged,
         "drop privileged and dangerous capabilities", resource_types=WORKLOAD_TYPES,
         params={"extraAllowlist": {
             "type": "array", "default": [],
             "description": "Further exceptions: {namespace, name (glob), kinds, allows, reason}; an entry without "
                            "a reason is ignored.",
             "items": {"type": "object", "required": ["namespace", "name", "allows", "reason"]}}},
         reference="https://kubernetes.io/docs/concepts/security/pod-security-standards/"),
    Rule("k8s-pod-no-host-access", "Platform pods use no host network, PID, IPC, paths or ports, except "
         "allowlisted ones (each with its reason).", "high", no_host_access, "remove host namespaces and hostPath",
         resource_types=WORKLOAD_TYPES,
         params={"extraAllowlist": {
             "type": "array", "default": [],
             "description": "Further exceptions: {namespace, name (glob), kinds, allows, reason}.",
             "items": {"type": "object", "required": ["namespace", "name", "allows", "reason"]}}},
         reference="https://kubernetes.io/docs/concepts/security/pod-security-standards/"),
    Rule("k8s-image-pinned", "Container images are pinned to a tag other than latest, or a digest.", "high",
         images_pinned, "image:<release tag> or image@sha256:<digest>", resource_types=WORKLOAD_TYPES,
         params={"requireDigest": {"type": "boolean", "default": False,
                                   "description": "Accept digests only."}}),
    Rule("k8s-container-resource-requests", "Every container requests CPU and memory.", "medium", resource_requests,
         "resources.requests.cpu and .memory", resource_types=WORKLOAD_TYPES,
         reference="https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"),
    # Memory limits only: a CPU limit throttles a pod even on an idle node, while memory
    # cannot be reclaimed without an OOM kill, so memory is what a limit must bound.
    Rule("k8s-container-memory-limit", "Every container has a memory limit.", "medium", memory_limits,
         "resources.limits.memory", resource_types=WORKLOAD_TYPES,
         reference="https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"),
    Rule("k8s-tenant-pod-security", "Tenant namespaces enforce the baseline or restricted Pod Security Standard.",
         "high", tenant_pod_security, f"{PSA_ENFORCE}: restricted or baseline",
         resource_types=("kubernetes:core/v1:Namespace",),
         params={"allowedLevels": {"type": "array", "items": {"type": "string"}, "default": ["restricted", "baseline"],
                                   "description": "Pod Security levels a tenant namespace may enforce."}},
         reference="https://kubernetes.io/docs/concepts/security/pod-security-admission/"),
    Rule("k8s-tenant-resource-quota", "Every tenant namespace has a ResourceQuota on GPUs, CPU and memory.",
         "high", tenant_resource_quota, "a ResourceQuota with requests.nvidia.com/gpu", scope="stack",
         params={"requiredKeys": {"type": "array", "items": {"type": "string"},
                                  "default": ["requests.nvidia.com/gpu", "requests.cpu", "requests.memory"],
                                  "description": "spec.hard keys every tenant's quota sets."}},
         reference="https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources"),
    Rule("k8s-tenant-limit-range", "Every tenant namespace has a LimitRange with container defaults.", "medium",
         tenant_limit_range, "a LimitRange with default and defaultRequest", scope="stack",
         reference="https://kubernetes.io/docs/concepts/policy/limit-range/"),
    Rule("k8s-tenant-default-deny", "Every tenant namespace has a default-deny NetworkPolicy for ingress and "
         "egress.", "high", tenant_default_deny, "a NetworkPolicy selecting all pods with no rules", scope="stack",
         reference="https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies"),
    Rule("k8s-no-cluster-admin-for-tenants", "No tenant user, group or service account is bound to cluster-admin.",
         "critical", no_cluster_admin_for_tenants, "namespaced roles for tenants", scope="stack",
         reference="https://kubernetes.io/docs/concepts/security/rbac-good-practices/"),
)
