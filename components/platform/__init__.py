"""The platform: one resolved stack in, the cluster and every registered component out."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any

import pulumi

from components.component import PlatformComponent
from kubeforge.config.resolved import ResolvedStack

# The cluster component per target, imported only for the stack's own target
# (pulumi_aws and pulumi_gcp take seconds to import).
CLUSTERS: dict[str, tuple[str, str, str]] = {
    "aws": ("components.cluster.aws", "EksCluster", "EksClusterArgs"),
    "gcp": ("components.cluster.gcp", "GkeCluster", "GkeClusterArgs"),
    "onprem": ("components.cluster.onprem", "ExistingCluster", "ExistingClusterArgs"),
}


@dataclass(frozen=True)
class PlatformArgs:
    stack: ResolvedStack
    """The resolved stack: everything the platform deploys."""
    kubeconfig: pulumi.Output[str] | None = None
    """On-prem: the secret ``kubeforge:kubeconfig`` value, when set."""
    object_store_credentials: pulumi.Output[Any] | None = None
    """On-prem: the secret ``kubeforge:objectStoreCredentials`` value (tenants' object-store
    keys), when set; components receive it in ``ClusterAccess``."""
    identity_secret: pulumi.Output[str] | None = None
    """The secret ``kubeforge:identitySecret`` value (the OIDC client secret or LDAP bind
    password), when set; components receive it in ``ClusterAccess``."""


class Platform(pulumi.ComponentResource):
    """The whole kubeforge platform for one stack."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:platform:Platform", name, None, opts)
        from components.registry import REGISTRY, dependency_order

        stack = args.stack
        module, cls_name, args_name = CLUSTERS[stack.target]
        cluster_module = importlib.import_module(module)
        cluster_args = getattr(cluster_module, args_name).from_stack(stack, args.kubeconfig)
        cluster = getattr(cluster_module, cls_name)("cluster", cluster_args, opts=pulumi.ResourceOptions(parent=self))
        access = dataclasses.replace(cluster.access, object_store_credentials=args.object_store_credentials,
                                     identity_secret=args.identity_secret)

        self.components: dict[str, list[PlatformComponent]] = {}
        for component in dependency_order(REGISTRY):
            before = [c for key in (*component.depends_on, *component.after) for c in self.components.get(key, [])]
            for instance, component_args in component.instances(stack, access).items():
                tenant = component.tenant_of(instance)
                needs = [r for c in before if tenant is None or c.tenant_of(c.instance) in (None, tenant)
                         for r in c.ready()]
                previous = component.previous_names.get(instance)
                self.components.setdefault(component.key, []).append(component(
                    instance,
                    component_args,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=needs or None,
                        aliases=[pulumi.Alias(name=previous)] if previous else None,
                    ),
                ))
        self.kubeconfig = cluster.kubeconfig
        # Stack outputs components publish (e.g. the demo user's generated password).
        self.outputs: dict[str, pulumi.Output] = {
            name: value for instances in self.components.values() for c in instances
            for name, value in c.stack_outputs().items()
        }
        self.tenant_namespaces = {
            tenant.instance.removeprefix("tenant-"): tenant.namespace_name
            for tenant in self.components.get("tenants", [])
        }
        self.register_outputs({"tenantNamespaces": self.tenant_namespaces})
