"""Spec to resolved model: every default, lookup and derivation, made once.

Runs after the spec checks (:data:`kubeforge.config.checks.SPEC_CHECKS`) passed, so it
may rely on them: the release supports the Kubernetes version, every GPU pool has a
machine on its target.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeforge import catalog, machines
from kubeforge.config.checks import configured_components
from kubeforge.config.resolved import (
    AwsCluster,
    CpuPool,
    DriverInstallPath,
    ExistingCluster,
    GkeCluster,
    GpuPool,
    MigLayout,
    ResolvedComponent,
    ResolvedStack,
    frozen,
)
from kubeforge.config.spec import ComponentSpec, NodePoolSpec, OnPremSettings, PlatformSpec, TenantSpec
from kubeforge.gpu.mig import parse_mig_layout


def cluster_name(stack: str) -> str:
    return f"kubeforge-{stack}"


def resolve(spec: PlatformSpec, tenants: Mapping[str, TenantSpec], release: catalog.Release,
            stack: str) -> ResolvedStack:
    return ResolvedStack(
        stack=stack,
        target=spec.target,
        kubernetes_version=spec.kubernetes_version,
        release=release,
        cluster=_cluster(spec, release, stack),
        cpu_pools=frozen({n: _cpu_pool(spec, n, p) for n, p in spec.node_pools.items() if p.gpu is None}),
        gpu_pools=frozen({n: _gpu_pool(spec, n, p) for n, p in spec.node_pools.items() if p.gpu is not None}),
        storage=spec.storage,
        scheduler=spec.scheduler,
        components=frozen(_components(spec, release)),
        storage_components=frozen({
            key: ResolvedComponent(key=key, pin=pin, overridden=False, values_overrides=frozen(),
                                   settings=ComponentSpec())
            for key, pin in release.storage.items()
        }),
        tenants=frozen(tenants),
        access=spec.access,
        driver_install_path=driver_install_path(spec),
    )


def driver_install_path(spec: PlatformSpec) -> DriverInstallPath:
    if spec.target == "aws":
        return "ami"
    if spec.target == "gcp":
        return "cos-installer"
    return (spec.onprem or OnPremSettings()).driver_install


def _cluster(spec: PlatformSpec, release: catalog.Release, stack: str):
    if spec.target == "aws":
        return AwsCluster(name=cluster_name(stack), kubernetes_version=spec.kubernetes_version, settings=spec.aws,
                          ami=release.eks_nvidia_ami[spec.kubernetes_version])
    if spec.target == "gcp":
        return GkeCluster(name=cluster_name(stack), kubernetes_version=spec.kubernetes_version, settings=spec.gcp)
    return ExistingCluster(kubernetes_version=spec.kubernetes_version, settings=spec.onprem or OnPremSettings())


def _cpu_pool(spec: PlatformSpec, name: str, pool: NodePoolSpec) -> CpuPool:
    default = machines.DEFAULT_SYSTEM_MACHINE.get(spec.target, "")
    return CpuPool(name=name, machine_type=pool.machine_type or default, min=pool.min, max=pool.max,
                   disk_gb=pool.disk_gb, labels=frozen(pool.labels))


def _gpu_pool(spec: PlatformSpec, name: str, pool: NodePoolSpec) -> GpuPool:
    gpu = pool.gpu
    assert gpu is not None and pool.driver is not None
    onprem = spec.target == "onprem"
    machine = None if onprem else machines.pick_machine_type(spec.target, gpu.model, gpu.per_node)
    mig = None
    if gpu.mig is not None:
        mig = MigLayout(strategy=gpu.mig.strategy, layout=gpu.mig.layout,
                        profiles=frozen(_profiles_or_empty(gpu.mig.layout)))
    return GpuPool(
        name=name,
        model=gpu.model,
        gpus_per_node=gpu.per_node,
        driver=pool.driver,
        allow_eol_driver=pool.allow_eol_driver,
        mig=mig,
        min=pool.min,
        max=pool.max,
        disk_gb=pool.disk_gb,
        labels=frozen(pool.labels),
        machine=machine,
        nodes=tuple(pool.nodes),
        node_selector=frozen(pool.node_selector),
        capacity_nodes=len(pool.nodes) if (onprem and pool.nodes) else pool.max,
    )


def _profiles_or_empty(layout: str) -> dict[str, int]:
    # A malformed layout is reported by the GPU stack check, with the pool's key path.
    try:
        return parse_mig_layout(layout)
    except ValueError:
        return {}


def _components(spec: PlatformSpec, release: catalog.Release) -> dict[str, ResolvedComponent]:
    out = {}
    for _section, key, settings in configured_components(spec):
        pin = release.components.get(key)
        if pin is None or not settings.enabled:
            continue
        chosen = catalog.component_versions(key)[settings.version] if settings.version else pin
        out[key] = ResolvedComponent(
            key=key, pin=chosen, overridden=chosen.version != pin.version,
            values_overrides=frozen(settings.values_overrides), settings=settings,
        )
    return out
