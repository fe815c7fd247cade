"""The platform assembly: one validated StackConfig in, the whole platform out."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cluster import ExistingCluster, ExistingClusterArgs
from components.platform.namespaces import PlatformNamespaces, PlatformNamespacesArgs
from components.tenancy import TenantNamespace, TenantNamespaceArgs
from kubeforge.config import StackConfig


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig
    kubeconfig: pulumi.Output[str] | None = None
    """On-prem: the secret ``kubeforge:kubeconfig`` value, when set."""


class Platform(pulumi.ComponentResource):
    """The whole kubeforge platform for one stack."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:platform:Platform", name, None, opts)
        config = args.config
        spec = config.platform
        child = pulumi.ResourceOptions(parent=self)

        cluster = _cluster(config, args, child)
        provider = cluster.provider

        enabled = spec.components.enabled()
        names = [pin.namespace for key, pin in config.release.components.items() if key in enabled]
        if spec.scheduler.enabled:
            names.append(config.release.components["volcano"].namespace)
        namespaces = PlatformNamespaces(
            f"{name}-namespaces", PlatformNamespacesArgs(names=names, provider=provider), opts=child
        )
        tenants = {
            tenant: TenantNamespace(
                f"tenant-{tenant}",
                TenantNamespaceArgs(name=tenant, spec=tenant_spec, provider=provider),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces]),
            )
            for tenant, tenant_spec in config.tenants.items()
        }
        self.kubeconfig = cluster.kubeconfig
        self.tenant_namespaces = {t: c.namespace for t, c in tenants.items()}
        self.register_outputs({"tenantNamespaces": self.tenant_namespaces})


def _cluster(config: StackConfig, args: PlatformArgs, opts: pulumi.ResourceOptions):
    spec = config.platform
    if spec.target == "onprem":
        return ExistingCluster(
            "cluster",
            ExistingClusterArgs(settings=spec.onprem, gpu_pools=config.gpu_pools, kubeconfig=args.kubeconfig),
            opts=opts,
        )
    raise NotImplementedError(f"target {spec.target}")
