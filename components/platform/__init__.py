"""The platform assembly: one validated StackConfig in, the whole platform out."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cluster import ExistingCluster, ExistingClusterArgs
from components.platform.namespaces import PlatformNamespaces, PlatformNamespacesArgs
from components.tenancy import TenantNamespace, TenantNamespaceArgs
from kubeforge.config import StackConfig
from kubeforge.config.model import OnPremSettings


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
        if config.driver_install_path == "cos-installer" and config.gpu_pools:
            from components.gpu import CosDriverInstaller, CosDriverInstallerArgs

            images = config.release.platform_images
            CosDriverInstaller(
                "gpu-driver",
                CosDriverInstallerArgs(
                    drivers=[pool.spec.driver for pool in config.gpu_pools.values()],
                    installer_image=images["cosGpuInstaller"].image,
                    pause_image=images["pause"].image,
                    provider=provider,
                ),
                opts=child,
            )
        if "gpuOperator" in enabled and config.gpu_pools:
            from components.gpu import GpuOperator, GpuOperatorArgs

            GpuOperator(
                "gpu-operator",
                GpuOperatorArgs(
                    config=config,
                    pin=config.release.components["gpuOperator"],
                    settings=enabled["gpuOperator"],
                    monitoring="monitoring" in enabled,
                    provider=provider,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces]),
            )
        tenants = {
            tenant: TenantNamespace(
                f"tenant-{tenant}",
                TenantNamespaceArgs(name=tenant, spec=tenant_spec, provider=provider),
                opts=child,
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
            ExistingClusterArgs(
                settings=spec.onprem or OnPremSettings(),
                gpu_pools=config.gpu_pools,
                kubeconfig=args.kubeconfig,
                kubectl_image=config.release.platform_images["kubectl"].image,
                pause_image=config.release.platform_images["pause"].image,
            ),
            opts=opts,
        )
    name = f"kubeforge-{config.stack}"
    cpu_pools = {n: p for n, p in spec.node_pools.items() if p.gpu is None}
    if spec.target == "aws":
        from components.cluster.aws import EksCluster, EksClusterArgs  # pulumi_aws imports take seconds

        return EksCluster(
            "cluster",
            EksClusterArgs(
                name=name,
                settings=spec.aws,
                kubernetes_version=spec.kubernetes_version,
                system_pools=cpu_pools,
                gpu_pools=config.gpu_pools,
                ami=config.release.eks_nvidia_ami[spec.kubernetes_version],
            ),
            opts=opts,
        )
    from components.cluster.gcp import GkeCluster, GkeClusterArgs

    return GkeCluster(
        "cluster",
        GkeClusterArgs(
            name=name,
            settings=spec.gcp,
            kubernetes_version=spec.kubernetes_version,
            system_pools=cpu_pools,
            gpu_pools=config.gpu_pools,
        ),
        opts=opts,
    )
