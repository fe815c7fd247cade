"""Stack rules over the tenants as a whole: each tenant namespace bound to its own Volcano
queue, the tenants' guaranteed GPUs within what the pools provide, and nothing shared
between two tenants: namespace, queue, bucket (or prefix of one) or NAS path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from kubeforge_policies.gpu import gpu_pools
from kubeforge_policies.model import (
    QUEUE_ANNOTATION,
    TENANT_LABEL,
    PolicyResource,
    as_dict,
    tenant_namespaces,
    tenant_of,
)
from kubeforge_policies.rule import Issue, Rule

GPU = "nvidia.com/gpu"


def queues(resources: Sequence[PolicyResource]) -> dict[str, PolicyResource]:
    """Volcano queues the stack creates, by name (patches of upstream queues excluded)."""
    return {str(r.k8s_name): r for r in resources
            if r.is_kubernetes and r.kind == "Queue" and str(r.get("apiVersion", default="")).startswith(
                "scheduling.volcano.sh/")}


def _quantity(value: Any) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def namespace_has_own_queue(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    known = queues(resources)
    for ns in tenant_namespaces(resources):
        tenant, name = ns.labels[TENANT_LABEL], ns.annotations.get(QUEUE_ANNOTATION)
        fix = (f"annotate namespace {ns.k8s_name} {QUEUE_ANNOTATION}: <its queue> and create that Volcano Queue "
               f"labelled {TENANT_LABEL}: {tenant}")
        if not name:
            yield Issue(f"tenant namespace {ns.k8s_name} is bound to no Volcano queue, so its jobs go to the "
                        "default queue", fix, ns)
        elif name not in known:
            yield Issue(f"tenant namespace {ns.k8s_name} names queue {name}, which the stack does not create", fix, ns)
        elif known[name].labels.get(TENANT_LABEL) != tenant:
            owner = known[name].labels.get(TENANT_LABEL) or "no tenant"
            yield Issue(f"tenant namespace {ns.k8s_name} is bound to queue {name}, which belongs to {owner}", fix, ns)


def guarantees_within_capacity(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    guaranteed = {name: _quantity(as_dict(q.get("spec", "guarantee", "resource")).get(GPU, 0))
                  for name, q in queues(resources).items() if q.labels.get(TENANT_LABEL)}
    guaranteed = {n: g for n, g in guaranteed.items() if g}
    pools = gpu_pools(resources)
    capacity = sum(p.gpus_per_node * p.max_nodes for p in pools)
    total = sum(guaranteed.values())
    if total > capacity:
        who = ", ".join(f"{n} {g:g}" for n, g in sorted(guaranteed.items()))
        have = ", ".join(f"{p.name} {p.max_nodes}x{p.gpus_per_node}" for p in pools) or "no GPU pool"
        yield Issue(f"tenants' queues guarantee {total:g} GPUs ({who}) but the GPU pools provide at most "
                    f"{capacity} ({have})", "lower the tenants' queue.guaranteedGpus or raise the pools' max nodes")


def _tenant_namespace_names(resources: Sequence[PolicyResource]) -> dict[str, set[str]]:
    owners: dict[str, set[str]] = defaultdict(set)
    for r in resources:
        if not r.is_kubernetes or not r.labels.get(TENANT_LABEL):
            continue
        namespace = r.k8s_name if r.kind == "Namespace" else r.namespace
        if namespace:
            owners[str(namespace)].add(str(r.labels[TENANT_LABEL]))
    return owners


def share_no_namespace(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    by_name: dict[str, list[PolicyResource]] = defaultdict(list)
    for ns in tenant_namespaces(resources):
        by_name[str(ns.k8s_name)].append(ns)
    for namespace, owners in sorted(_tenant_namespace_names(resources).items()):
        if len(owners) > 1 or len(by_name.get(namespace, [])) > 1:
            subject = by_name[namespace][0] if by_name.get(namespace) else None
            yield Issue(f"namespace {namespace} holds objects of tenants {', '.join(sorted(owners))}",
                        "give every tenant its own namespace (the tenant's name) and put its objects there only",
                        subject)


def share_no_queue(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    users: dict[str, list[PolicyResource]] = defaultdict(list)
    for ns in tenant_namespaces(resources):
        if ns.annotations.get(QUEUE_ANNOTATION):
            users[str(ns.annotations[QUEUE_ANNOTATION])].append(ns)
    for queue, namespaces in sorted(users.items()):
        tenants = sorted({str(ns.labels[TENANT_LABEL]) for ns in namespaces})
        if len(tenants) > 1:
            yield Issue(f"tenants {', '.join(tenants)} share Volcano queue {queue}, so one's jobs take the other's "
                        "guarantee", "give every tenant a queue of its own", namespaces[0])


def _locations(r: PolicyResource) -> list[tuple[str, str]]:
    """(bucket, prefix) pairs a tenant-owned resource gives its tenant."""
    out = []
    if r.type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        out.append((str(r.known("bucket") or r.name), ""))
    elif r.type == "gcp:storage/bucket:Bucket":
        out.append((str(r.known("name") or r.name), ""))
    elif r.is_kubernetes and r.kind == "ConfigMap":
        data = as_dict(r.get("data"))
        if data.get("S3_BUCKET"):
            out.append((str(data["S3_BUCKET"]), ""))
        root = data.get("defaultPipelineRoot")
        if root:
            parts = urlsplit(str(root))
            out.append((parts.netloc, parts.path.strip("/")))
    return out


def _overlap(a: str, b: str) -> bool:
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


def share_no_bucket(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    held: list[tuple[str, str, str, PolicyResource]] = []
    for r in resources:
        tenant = tenant_of(r)
        if tenant:
            held += [(tenant, bucket, prefix, r) for bucket, prefix in _locations(r)]
    reported = set()
    for i, (t1, b1, p1, r1) in enumerate(held):
        for t2, b2, p2, r2 in held[i + 1:]:
            if t1 != t2 and b1 == b2 and _overlap(p1, p2) and (b1, t1, t2) not in reported:
                reported.add((b1, t1, t2))
                where = f"{b1}/{p1 or p2}".rstrip("/")
                yield Issue(f"tenants {t1} and {t2} both store in {where} (via {r1.name} and {r2.name})",
                            "give every tenant its own bucket (kubeforge: one bucket per tenant)", r2)


# Per-volume directories the NFS and EFS CSI drivers create from a StorageClass's parameters.
# Ref: https://github.com/kubernetes-csi/csi-driver-nfs/blob/master/docs/driver-parameters.md ;
# https://github.com/kubernetes-sigs/aws-efs-csi-driver/blob/master/docs/README.md#storage-class-parameters-for-dynamic-provisioning
def _nas_path(claim: PolicyResource, classes: Mapping[str, PolicyResource]) -> str | None:
    """Where on the NAS a claim's volume lives, when the class derives it from a template;
    None when each volume gets a place of its own (its own share, an access point with a
    unique directory)."""
    storage_class = classes.get(str(claim.get("spec", "storageClassName")))
    if storage_class is None:
        return None
    p = as_dict(storage_class.get("parameters"))
    ns, name = str(claim.namespace), str(claim.k8s_name)
    provisioner = storage_class.get("provisioner")
    if provisioner == "nfs.csi.k8s.io":
        sub = str(p.get("subDir", "${pv.metadata.name}"))
        if "${pv.metadata.name}" in sub:
            return None
        sub = sub.replace("${pvc.metadata.namespace}", ns).replace("${pvc.metadata.name}", name)
        return f"{p.get('server')}:{str(p.get('share', '')).rstrip('/')}/{sub}"
    if provisioner == "efs.csi.aws.com" and str(p.get("ensureUniqueDirectory", "true")).lower() == "false":
        sub = str(p.get("subPathPattern", "${.PV.name}"))
        if "${.PV.name}" in sub:
            return None
        sub = sub.replace("${.PVC.namespace}", ns).replace("${.PVC.name}", name)
        return f"{p.get('fileSystemId')}:{str(p.get('basePath', '')).rstrip('/')}/{sub}"
    return None


def share_no_nas_path(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    classes = {str(r.k8s_name): r for r in resources if r.is_kubernetes and r.kind == "StorageClass"}
    owners = _tenant_namespace_names(resources)
    paths: dict[str, list[tuple[str, PolicyResource]]] = defaultdict(list)
    for claim in (r for r in resources if r.is_kubernetes and r.kind == "PersistentVolumeClaim"):
        tenants = owners.get(str(claim.namespace))
        path = _nas_path(claim, classes)
        if tenants and path:
            paths[path] += [(t, claim) for t in tenants]
    items = sorted(paths.items())
    for i, (path, users) in enumerate(items):
        nested = [u for other, more in items[i + 1:] if other.startswith(path.rstrip("/") + "/") for u in more]
        tenants = sorted({t for t, _ in users + nested})
        if len(tenants) > 1:
            yield Issue(f"tenants {', '.join(tenants)} share NAS path {path}",
                        "give every claim its own directory: a subDir / subPathPattern with the claim's namespace "
                        "and name, or a unique directory per volume", users[0][1])


RULES = (
    Rule("tenant-namespace-own-queue", "Every tenant namespace is bound to a Volcano queue of its own tenant.",
         "high", namespace_has_own_queue, f"{QUEUE_ANNOTATION} naming the tenant's Queue", scope="stack",
         reference="https://volcano.sh/en/docs/queue/"),
    Rule("tenant-gpu-guarantees-within-capacity", "The tenants' guaranteed GPUs fit the GPU pools' capacity.",
         "high", guarantees_within_capacity, "guarantees at most max nodes x GPUs per node", scope="stack",
         reference="https://volcano.sh/en/docs/capacity_plugin/"),
    Rule("tenants-share-no-namespace", "No two tenants share a namespace.", "critical", share_no_namespace,
         "one namespace per tenant", scope="stack"),
    Rule("tenants-share-no-queue", "No two tenants share a Volcano queue.", "high", share_no_queue,
         "one queue per tenant", scope="stack"),
    Rule("tenants-share-no-bucket", "No two tenants share a bucket or a prefix of one.", "critical", share_no_bucket,
         "one bucket per tenant", scope="stack"),
    Rule("tenants-share-no-nas-path", "No two tenants share a NAS path.", "critical", share_no_nas_path,
         "one directory per claim", scope="stack"),
)
