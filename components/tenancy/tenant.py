"""A tenant: its namespace and everything that confines it.

Namespace (Pod Security labels), ResourceQuota (GPUs, storage per class, object counts,
no load balancers or node ports by default), LimitRange, NetworkPolicies (default deny,
then what the platform needs), RoleBindings (namespace-scoped only), its Volcano queue,
and with Kubeflow's components on, its Profile and PodDefaults, and its contributors'
access in the shape Kubeflow's access management (KFAM) gives it. Who owns which object
when Kubeflow's profile controller and KFAM also act on the namespace: docs/TENANCY.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import gpu_toleration
from components.component import ClusterAccess, PlatformComponent
from components.labels import TENANT_LABEL, recommended_labels
from components.storage.tenant import object_store_name, service_account_name
from kubeforge.config.resolved import ResolvedStack, TenantSpec, quantity_value

# Access maps onto Kubernetes' user-facing ClusterRoles.
# Ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
ROLE_FOR = {"owner": "admin", "edit": "edit", "view": "view"}
# Volcano's podgroup webhook puts a PodGroup that names the "default" queue into the queue
# its namespace names here. Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/webhooks/admission/podgroups/mutate/mutate_podgroup.go
QUEUE_ANNOTATION = "scheduling.volcano.sh/queue-name"
# Kubeflow's profile controller adopts an existing namespace only when this annotation
# names the Profile's owner. Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/profile-controller/controllers/profile_controller.go#L174
PROFILE_OWNER_ANNOTATION = "owner"
# Kubeflow's access management (KFAM, kubeflow v1.10.0, the version the catalog's Profiles
# install runs) turns a dashboard role into a ClusterRole: a contributor's RoleBinding is
# annotated with the role ("edit", "view") and binds "kubeflow-<role>", the ClusterRoles
# Kubeflow's components aggregate their rights into.
# Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/access-management/kfam/bindings.go#L38-L46
# and https://github.com/kubeflow/community-distribution/blob/26.03/common/kubeflow-roles/base/cluster-roles.yaml
KUBEFLOW_ROLE_FOR = {"edit": "kubeflow-edit", "view": "kubeflow-view"}
# The annotations KFAM reads to list a namespace's members (its List skips a RoleBinding
# without both), which the central dashboard shows as the namespace's contributors.
# Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/access-management/kfam/bindings.go#L35-L36 and #L195-L238
KFAM_USER_ANNOTATION = "user"
KFAM_ROLE_ANNOTATION = "role"
# KFAM's configuration in the catalog's Profiles install (the "config" ConfigMap its
# container reads as flags and environment): the header the gateway sets to the signed-in
# user, with no prefix, and the two callers trusted to present it, the Istio ingress gateway
# and the Pipelines UI. The binary's own defaults (x-goog-authenticated-user-email,
# accounts.google.com:) are overridden there.
# Ref: https://github.com/kubeflow/community-distribution/blob/26.03/applications/profiles/upstream/manager/kustomization.yaml#L5-L14
# (identical in https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/profile-controller/config/manager/kustomization.yaml),
# .../applications/profiles/upstream/overlays/kubeflow/patches/kfam.yaml (flags, envFrom)
KUBEFLOW_USERID_HEADER = "kubeflow-userid"
KUBEFLOW_USERID_PREFIX = ""
KUBEFLOW_TRUSTED_PRINCIPALS = (
    "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",  # ISTIO_INGRESS_GATEWAY_PRINCIPAL
    "cluster.local/ns/kubeflow/sa/ml-pipeline-ui",  # KFP_UI_PRINCIPAL
)
DNS1123_SUBDOMAIN_MAX = 253
"""Longest name of a custom resource (an AuthorizationPolicy): a DNS-1123 subdomain.
Ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names"""
QUEUE_PRIORITY = {"low": 0, "normal": 50, "high": 100}
"""Queue.spec.priority per tier: higher queues are served first and reclaimed from last."""
NAS_MOUNT = "/mnt/nas"
CLUSTER_DNS = {"kubernetes.io/metadata.name": "kube-system"}
# Link-local instance metadata: never reachable from tenant pods, whatever else is allowed.
# Ref: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
METADATA_CIDRS = ["169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128"]


@dataclass(frozen=True)
class TenantQueuePlan:
    """The tenant's Volcano queue, derived from its file and the scheduler settings."""

    weight: int
    """Share of idle capacity relative to other queues."""
    capability: Mapping[str, str]
    """Hard cap: the tenant's quota for cpu, memory and nvidia.com/gpu."""
    guaranteed_gpus: int
    """GPUs reserved for the queue (guarantee)."""
    deserved: bool
    """Also set ``deserved`` to the guarantee (the capacity plugin reclaims back to it)."""
    reclaimable: bool
    """Whether other queues may reclaim what this queue borrowed."""
    priority: int
    """Queue priority from the tenant's tier."""


@dataclass(frozen=True)
class TenantNamespaceArgs:
    name: str
    """Tenant name (the tenant file's stem); also the namespace and queue name."""
    spec: TenantSpec
    """The tenant's validated file."""
    queue: TenantQueuePlan | None
    """Its Volcano queue; None when the scheduler is off."""
    platform_namespaces: tuple[str, ...]
    """Namespaces of the platform's components: their controllers may reach the tenant."""
    gateway_namespace: str | None
    """The ingress gateway's namespace (Istio), when it is installed."""
    nas_storage_class: str | None
    """The platform's NAS StorageClass, for the per-class quota and the NAS PodDefault."""
    gpu_pools: tuple[str, ...]
    """GPU pool names; with any, a PodDefault tolerating the GPU taint."""
    profile: bool
    """Kubeflow's Profiles + KFAM are installed: create the tenant's Profile, and give
    contributors their access in KFAM's shape instead of plain RoleBindings."""
    pod_defaults: bool
    """Kubeflow's PodDefaults webhook is installed: create the tenant's PodDefaults."""
    bucket: str | None
    """The tenant's bucket, when it has one."""
    bucket_access: Literal["service-account", "keys"] | None
    """How a pod reaches the bucket: the tenant's storage ServiceAccount (IRSA / Workload
    Identity) or its keys Secret (on-prem); None when it cannot (no bucket, no keys)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def queue_plan(stack: ResolvedStack, spec: TenantSpec) -> TenantQueuePlan | None:
    if "volcano" not in stack.components:
        return None
    queue = spec.queue
    reclaimable = stack.scheduler.queues.reclaimable if queue.reclaimable is None else queue.reclaimable
    return TenantQueuePlan(
        weight=queue.weight,
        capability={"cpu": _cap(spec.quota.cpu, "1m"), "memory": _cap(spec.quota.memory, "1"),
                    "nvidia.com/gpu": str(spec.quota.gpu)},
        guaranteed_gpus=queue.guaranteed_gpus,
        deserved=stack.scheduler.queue_plugin == "capacity",
        reclaimable=reclaimable,
        priority=QUEUE_PRIORITY[queue.priority],
    )


KUBEFLOW_PROFILE_LABELS = {
    # The PodDefaults webhook only mutates pods in namespaces labelled so
    # (MutatingWebhookConfiguration namespaceSelector, applications/admission-webhook at
    # 26.03). The profile controller adds this label only where the key is absent
    # (setNamespaceLabels, components/profile-controller/controllers/profile_controller.go
    # at kubeflow v1.10.0), so kubeforge must set it itself instead of part-of: kubeforge.
    "app.kubernetes.io/part-of": "kubeflow-profile",
    # Notebooks join the mesh: their AuthorizationPolicies admit the gateway's principal.
    "istio-injection": "enabled",
}


def _installed(key: str, stack: ResolvedStack) -> bool:
    """Whether a registered component installs ``key`` (and so its CRD) in this stack.

    A Profile or PodDefault applied before its CRD exists fails ``pulumi up``; enabling a
    component in config is not enough while no kubeforge component installs it.
    """
    from components import registry  # the registry imports this module

    return key in stack.components and any(c.key == key for c in registry.REGISTRY)


def _bucket_access(stack: ResolvedStack, cluster: ClusterAccess, tenant: str, spec: TenantSpec) -> dict:
    """Where a tenant's object storage is and how its pods reach it (components/storage)."""
    storage = stack.storage.object
    if not (storage.enabled and spec.storage.bucket):
        return {"bucket": None, "bucket_access": None}
    bucket = storage.bucket_name(stack.stack, tenant)
    if stack.target != "onprem":
        return {"bucket": bucket, "bucket_access": "service-account"}
    keys = cluster.object_store_credentials is not None
    return {"bucket": bucket, "bucket_access": "keys" if keys else None}


def _cap(quantity: str, smallest: str) -> str:
    # Volcano reads a zero cpu or memory capability as "no limit"; the smallest quantity
    # is the cap a zero quota means.
    # Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/capacity/capacity.go#L1068-L1088
    return smallest if quantity_value(str(quantity)) == 0 else str(quantity)


class TenantNamespace(PlatformComponent):
    """A tenant's namespace with quota, network isolation, access, queue and presets."""

    key = "tenants"
    type_token = "kubeforge:tenancy:TenantNamespace"
    args_type = TenantNamespaceArgs
    concern = "tenancy"
    depends_on = ("volcano", "priorityClasses")
    after = ("profiles", "podDefaults")

    namespace_name: pulumi.Output[str]

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantNamespaceArgs]:
        components = stack.components
        gateway = components["istio"].namespace if "istio" in components else None
        return {
            f"tenant-{name}": TenantNamespaceArgs(
                name=name,
                spec=spec,
                queue=queue_plan(stack, spec),
                platform_namespaces=tuple(sorted({c.namespace for c in components.values()})),
                gateway_namespace=gateway,
                nas_storage_class=stack.nas_storage_class,
                gpu_pools=tuple(sorted(stack.gpu_pools)),
                profile=_installed("profiles", stack),
                pod_defaults=_installed("podDefaults", stack),
                **_bucket_access(stack, cluster, name, spec),
                provider=cluster.provider,
            )
            for name, spec in stack.tenants.items()
        }

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None  # one per tenant, named after it

    @classmethod
    def tenant_of(cls, instance: str) -> str | None:
        return instance.removeprefix("tenant-")

    def __init__(self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self._args = args
        self._common = {**recommended_labels(name="tenant", instance=name, component=self.concern),
                        TENANT_LABEL: args.name}
        ns = self._namespace(name)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
        self._quota(name, in_ns)
        self._limits(name, in_ns)
        self._network(name, in_ns)
        self._access(name, in_ns)
        if args.queue is not None:
            self._queue(name, args.queue)
        if args.profile:
            self._profile(name, ns)
        if args.pod_defaults:
            self._pod_defaults(name, in_ns)
        self.namespace_name = ns.metadata.name
        self._ns = ns
        self.register_outputs({"namespace": self.namespace_name})

    def ready(self) -> list[pulumi.Resource]:
        # The tenant's storage needs the namespace only, not the quota, policies or Profile.
        return [self._ns]

    def _meta(self, suffix: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=f"{self._args.name}-{suffix}", namespace=self._args.name,
                                          labels=self._common)

    def _namespace(self, name: str) -> k8s.core.v1.Namespace:
        args = self._args
        labels = {
            **self._common,
            # Tenants run notebooks and training jobs, never privileged system pods; warn and
            # audit at restricted so teams see what a stricter namespace would refuse.
            # Ref: https://kubernetes.io/docs/concepts/security/pod-security-admission/
            "pod-security.kubernetes.io/enforce": args.spec.pod_security,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        }
        annotations = {"kubeforge.io/owner": args.spec.owner}
        if args.profile:
            annotations[PROFILE_OWNER_ANNOTATION] = args.spec.owner
            labels.update(KUBEFLOW_PROFILE_LABELS)
        if args.queue is not None:
            annotations[QUEUE_ANNOTATION] = args.name
        return k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, labels=labels, annotations=annotations),
            # Deleting a tenant's namespace deletes its data and jobs: guard it.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True),
        )

    def _quota(self, name: str, opts: pulumi.ResourceOptions) -> None:
        quota = self._args.spec.quota
        hard = {
            "requests.cpu": str(quota.cpu),
            "limits.cpu": str(quota.cpu),
            "requests.memory": str(quota.memory),
            "limits.memory": str(quota.memory),
            # Extended resources are quota'd by requests only.
            # Ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources
            "requests.nvidia.com/gpu": str(quota.gpu),
            "requests.storage": str(quota.storage),
            "pods": str(quota.pods),
            "persistentvolumeclaims": str(quota.persistent_volume_claims),
            "services": str(quota.services),
            # A tenant cannot open the cluster to the internet on its own.
            # Ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/#object-count-quota
            "services.loadbalancers": str(quota.load_balancers),
            "services.nodeports": str(quota.node_ports),
            "configmaps": str(quota.config_maps),
            "secrets": str(quota.secrets),
        }
        classes = dict(quota.storage_classes)
        if self._args.nas_storage_class:
            classes.setdefault(self._args.nas_storage_class, str(quota.storage))
        for storage_class, size in sorted(classes.items()):
            # Ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/#storage-resource-quota
            hard[f"{storage_class}.storageclass.storage.k8s.io/requests.storage"] = str(size)
        k8s.core.v1.ResourceQuota(f"{name}-quota", metadata=self._meta("quota"),
                                  spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=hard), opts=opts)

    def _limits(self, name: str, opts: pulumi.ResourceOptions) -> None:
        # With a cpu/memory quota, pods that set no requests/limits are refused; give
        # them defaults instead. Ref: https://kubernetes.io/docs/concepts/policy/limit-range/
        k8s.core.v1.LimitRange(
            f"{name}-defaults",
            metadata=self._meta("defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(
                type="Container", default_request={"cpu": "500m", "memory": "1Gi"}, default={"cpu": "2", "memory": "4Gi"},
            )]),
            opts=opts,
        )

    def _network(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """Deny everything, then allow what the platform needs. Policies are additive, so the
        namespace admits exactly the union of the allows.
        Ref: https://kubernetes.io/docs/concepts/services-networking/network-policies/"""
        args = self._args
        same_namespace = [{"podSelector": {}}]
        platform = [{"namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In", "values": list(args.platform_namespaces),
        }]}}] if args.platform_namespaces else []
        policies: dict[str, dict] = {
            "default-deny": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            "allow-same-namespace": {
                "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": same_namespace}], "egress": [{"to": same_namespace}],
            },
            "allow-dns": {
                "podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{"namespaceSelector": {"matchLabels": CLUSTER_DNS},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }],
            },
            # Object storage (S3, GCS, an S3-compatible endpoint) and the Kubernetes API are
            # reached over HTTPS at addresses the platform cannot know in advance; the
            # instance metadata service stays out of reach.
            "allow-https-egress": {
                "podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [c for c in METADATA_CIDRS if "." in c]}},
                           {"ipBlock": {"cidr": "::/0", "except": [c for c in METADATA_CIDRS if ":" in c]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }],
            },
        }
        if platform:
            # The platform's controllers (notebook, training, pipelines, monitoring) call
            # into tenant pods, and tenant pods call the platform's APIs.
            policies["allow-platform"] = {
                "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": platform}], "egress": [{"to": platform}],
            }
        if args.gateway_namespace:
            policies["allow-gateway"] = {
                "podSelector": {}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": args.gateway_namespace}}}]}],
            }
        for suffix, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(f"{name}-{suffix}", metadata=self._meta(suffix), spec=spec, opts=opts)

    def _access(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """The owner's binding always; contributors' either plain or, with Kubeflow's Profiles
        and KFAM installed, in KFAM's shape only (docs/TENANCY.md says why not both)."""
        spec = self._args.spec
        members = [("owner", spec.owner)] + [(c.role, c.user) for c in spec.contributors]
        for role, user in members:
            if role != "owner" and self._args.profile:
                self._kubeflow_access(name, role, user, opts)
                continue
            suffix = "owner" if role == "owner" else f"{role}-{_slug(user)}"
            # RoleBindings only: a ClusterRole bound in a namespace grants nothing beyond it.
            k8s.rbac.v1.RoleBinding(
                f"{name}-{suffix}",
                metadata=self._meta(suffix),
                role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                                 name=ROLE_FOR[role]),
                subjects=[k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="User", name=user)],
                opts=opts,
            )

    def _kubeflow_access(self, name: str, role: str, user: str, opts: pulumi.ResourceOptions) -> None:
        """A contributor's RoleBinding and Istio AuthorizationPolicy exactly as KFAM's Create
        writes them, so the dashboard lists the contributor and KFAM can remove them.
        Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/access-management/kfam/bindings.go#L112-L155"""
        binding = kfam_binding_name(user, role)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=binding, namespace=self._args.name, labels=self._common,
            annotations={KFAM_USER_ANNOTATION: user, KFAM_ROLE_ANNOTATION: role},
        )
        # Exactly one subject: KFAM's List fails for the whole namespace on an annotated
        # binding with more (bindings.go#L217-L220).
        k8s.rbac.v1.RoleBinding(
            f"{name}-{binding}",
            metadata=metadata,
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                             name=KUBEFLOW_ROLE_FOR[role]),
            subjects=[k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="User", name=user)],
            opts=opts,
        )
        if role == "view":
            # KFAM would also let a viewer's requests reach the tenant's workloads; notebook
            # servers run as default-editor with no token, so that is running code with edit
            # rights. Viewers read through the web apps (RBAC) only.
            # Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/example-notebook-servers/jupyter/s6/services.d/jupyterlab/run
            return
        # security.istio.io/v1: the same object KFAM writes through v1beta1 (both served, v1
        # stored). Ref: ../shared/reference/crds/security.istio.io_authorizationpolicies.yaml
        k8s.apiextensions.CustomResource(
            f"{name}-{binding}",
            api_version="security.istio.io/v1",
            kind="AuthorizationPolicy",
            metadata=metadata,
            spec=kfam_authorization_policy_spec(user),
            opts=opts,
        )

    def _queue(self, name: str, plan: TenantQueuePlan) -> None:
        spec: dict = {
            "weight": plan.weight,
            "capability": dict(plan.capability),
            "reclaimable": plan.reclaimable,
            "priority": plan.priority,
        }
        if plan.guaranteed_gpus:
            spec["guarantee"] = {"resource": {"nvidia.com/gpu": str(plan.guaranteed_gpus)}}
            if plan.deserved:
                spec["deserved"] = {"nvidia.com/gpu": str(plan.guaranteed_gpus)}
        # Ref: ../shared/reference/crds/scheduling.volcano.sh_queues.yaml (v1.15.1)
        k8s.apiextensions.CustomResource(
            f"{name}-queue",
            api_version="scheduling.volcano.sh/v1beta1",
            kind="Queue",
            metadata={"name": self._args.name, "labels": self._common},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider),
        )

    def _profile(self, name: str, namespace: k8s.core.v1.Namespace) -> None:
        # No resourceQuotaSpec: kubeforge's quota is the tenant's only one (the controller
        # then keeps no kf-resource-quota). Ref: docs/TENANCY.md
        k8s.apiextensions.CustomResource(
            f"{name}-profile",
            api_version="kubeflow.org/v1",
            kind="Profile",
            metadata={"name": self._args.name, "labels": self._common},
            spec={"owner": {"kind": "User", "name": self._args.spec.owner}},
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider, depends_on=[namespace]),
        )

    def _pod_defaults(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """Presets a notebook or job opts into by label (Ref: ../shared/reference/crds/kubeflow.org_poddefaults.yaml)."""
        args = self._args
        defaults: dict[str, dict] = {}
        if args.gpu_pools:
            # Tolerate the GPU taint; the GPU request itself keeps the pod on GPU nodes.
            # PodDefault v1alpha1 has no nodeSelector or affinity field (pool choice is the
            # notebook spawner's affinity config), so none is set here.
            # Ref: ../shared/reference/crds/kubeflow.org_poddefaults.yaml (kubeflow v1.10.0)
            defaults["gpu"] = {
                "desc": "Run on the GPU nodes (tolerate their taint)",
                "selector": {"matchLabels": {"kubeforge.io/gpu": "true"}},
                "tolerations": [gpu_toleration()],
            }
        if args.nas_storage_class and args.spec.storage.nas:
            defaults["nas"] = {
                "desc": f"Mount the team's shared NAS volume at {NAS_MOUNT}",
                "selector": {"matchLabels": {"kubeforge.io/nas": "true"}},
                "volumes": [{"name": "nas", "persistentVolumeClaim": {"claimName": f"{args.name}-nas"}}],
                "volumeMounts": [{"name": "nas", "mountPath": NAS_MOUNT}],
            }
        if args.bucket_access == "service-account":
            defaults["object-store"] = {
                "desc": f"Read and write the team's bucket {args.bucket}",
                "selector": {"matchLabels": {"kubeforge.io/object-store": "true"}},
                # The ServiceAccount's IRSA / Workload Identity binding grants that bucket only.
                "serviceAccountName": service_account_name(args.name),
                "env": [{"name": "KUBEFORGE_BUCKET", "value": args.bucket}],
            }
        elif args.bucket_access == "keys":
            defaults["object-store"] = {
                "desc": f"Read and write the team's bucket {args.bucket}",
                "selector": {"matchLabels": {"kubeforge.io/object-store": "true"}},
                # The tenant's keys and the endpoint, under the AWS SDKs' variable names.
                "envFrom": [{"secretRef": {"name": object_store_name(args.name)}},
                            {"configMapRef": {"name": object_store_name(args.name)}}],
            }
        for suffix, spec in defaults.items():
            k8s.apiextensions.CustomResource(
                f"{name}-poddefault-{suffix}",
                api_version="kubeflow.org/v1alpha1",
                kind="PodDefault",
                metadata=self._meta(suffix),
                spec=spec,
                opts=opts,
            )


_NOT_ALPHANUMERIC = re.compile(r"[^a-zA-Z0-9]+")


def kfam_binding_name(user: str, role: str) -> str:
    """The name KFAM gives ``user``'s binding with dashboard role ``role`` ("edit", "view"),
    e.g. ``user-bob-smith-example-com-clusterrole-edit``; KFAM finds its RoleBinding and
    AuthorizationPolicy by this name when the dashboard removes a contributor.

    KFAM's getBindingName: every run of characters other than ASCII letters and digits in
    the address becomes "-" (url.QueryEscape then leaves the result unchanged), joined with
    "User", "ClusterRole" and the role by "-", lower-cased, and runs of "-" collapsed again.
    Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/access-management/kfam/bindings.go#L60-L77

    That is a DNS-1123 name ("user" first, the role last, only [a-z0-9-] between) up to 22
    characters longer than the address. Past 253 characters (an address over 231) an
    AuthorizationPolicy cannot have it, and KFAM's own would fail: the address part is cut
    and a hash of the whole address keeps the name unique. The dashboard still lists such a
    contributor (KFAM lists by annotation) but cannot remove them.
    """
    name = _NOT_ALPHANUMERIC.sub("-", "-".join(("User", _NOT_ALPHANUMERIC.sub("-", user), "ClusterRole", role)).lower())
    if len(name) <= DNS1123_SUBDOMAIN_MAX:
        return name
    tail = f"-{hashlib.sha256(user.encode()).hexdigest()[:12]}-clusterrole-{role}"
    return name[:DNS1123_SUBDOMAIN_MAX - len(tail)].rstrip("-") + tail


def kfam_authorization_policy_spec(user: str) -> dict:
    """KFAM's AuthorizationPolicy for a contributor: requests to the namespace's workloads
    that the gateway (or the Pipelines UI) forwards with the user's identity header. No
    action (ALLOW) and no selector (every workload in the namespace), as KFAM writes it.
    Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/access-management/kfam/bindings.go#L79-L110"""
    return {"rules": [{
        "when": [{"key": f"request.headers[{KUBEFLOW_USERID_HEADER}]", "values": [KUBEFLOW_USERID_PREFIX + user]}],
        "from": [{"source": {"principals": list(KUBEFLOW_TRUSTED_PRINCIPALS)}}],
    }]}


def _slug(user: str) -> str:
    """A DNS-label-safe rendering of an e-mail address for object names: at most 40
    characters, a long address cut and told apart by a hash of the whole address."""
    out = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in user.lower()).strip("-")
    if len(out) <= 40:
        return out
    return f"{out[:31].strip('-')}-{hashlib.sha256(user.lower().encode()).hexdigest()[:8]}"
