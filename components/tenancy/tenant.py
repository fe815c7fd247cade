"""A tenant: namespace, resource quota (GPUs included), default requests and access."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack, TenantSpec

TENANT_LABEL = "kubeforge.io/tenant"
# Access maps onto Kubernetes' user-facing ClusterRoles.
# Ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
ROLE_FOR = {"owner": "admin", "edit": "edit", "view": "view"}


@dataclass(frozen=True)
class TenantNamespaceArgs:
    name: str
    """Tenant name (the tenant file's stem); also the namespace name."""
    spec: TenantSpec
    """The tenant's validated file."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TenantNamespace(PlatformComponent):
    """A tenant's namespace with quota, default container requests and RBAC."""

    key = "tenants"
    type_token = "kubeforge:tenancy:TenantNamespace"
    args_type = TenantNamespaceArgs
    concern = "tenancy"

    namespace_name: pulumi.Output[str]

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantNamespaceArgs]:
        return {
            f"tenant-{name}": TenantNamespaceArgs(name=name, spec=spec, provider=cluster.provider)
            for name, spec in stack.tenants.items()
        }

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None  # one per tenant, named after it

    def __init__(self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        spec = args.spec
        common = {**recommended_labels(name="tenant", instance=name, component=self.concern), TENANT_LABEL: args.name}
        labels = {
            **common,
            # Tenants run notebooks and training jobs, not privileged system pods.
            # Ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
        }
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, labels=labels, annotations={"kubeforge.io/owner": spec.owner}
            ),
            # Deleting a tenant's namespace deletes its data and jobs: guard it.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
        meta = lambda suffix: k8s.meta.v1.ObjectMetaArgs(  # noqa: E731
            name=f"{args.name}-{suffix}", namespace=args.name, labels=common
        )
        quota = spec.quota
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": str(quota.cpu),
                    "limits.cpu": str(quota.cpu),
                    "requests.memory": str(quota.memory),
                    "limits.memory": str(quota.memory),
                    # Extended resources are quota'd by requests only.
                    # Ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources
                    "requests.nvidia.com/gpu": str(quota.gpu),
                    "requests.storage": str(quota.storage),
                    "pods": str(quota.pods),
                }
            ),
            opts=in_ns,
        )
        # With a cpu/memory quota, pods that set no requests/limits are refused; give
        # them defaults instead. Ref: https://kubernetes.io/docs/concepts/policy/limit-range/
        k8s.core.v1.LimitRange(
            f"{name}-defaults",
            metadata=meta("defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request={"cpu": "500m", "memory": "1Gi"},
                        default={"cpu": "2", "memory": "4Gi"},
                    )
                ]
            ),
            opts=in_ns,
        )
        members = [("owner", spec.owner)] + [(c.role, c.user) for c in spec.contributors]
        for role, user in members:
            suffix = "owner" if role == "owner" else f"{role}-{_slug(user)}"
            k8s.rbac.v1.RoleBinding(
                f"{name}-{suffix}",
                metadata=meta(suffix),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=ROLE_FOR[role]
                ),
                subjects=[k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="User", name=user)],
                opts=in_ns,
            )
        self.namespace_name = ns.metadata.name
        self.register_outputs({"namespace": self.namespace_name})


def _slug(user: str) -> str:
    """A DNS-label-safe rendering of an e-mail address for object names."""
    out = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in user.lower())
    return out.strip("-")[:40].strip("-")
