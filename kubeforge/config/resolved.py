"""The resolved model: one immutable description of everything a stack deploys.

Loading ends here (:mod:`kubeforge.config.loader`): the spec a user wrote is validated,
checked across fields (:mod:`kubeforge.config.checks`) and resolved
(:mod:`kubeforge.config.resolve`): machine types picked, catalog pins chosen, capacity
summed, defaults filled in and the driver install path decided, once. Components read
this model and the catalog, nothing else; they never see raw config or the loader.

The spec's leaf settings (e.g. :class:`AwsSettings`) are frozen, validated pydantic
models and are passed through as they are; they are re-exported here so components
import from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from kubeforge.catalog import ComponentPin, EksAmiRelease, Release
from kubeforge.config.spec import (
    AccessSpec,
    AwsSettings,
    ComponentSpec,
    GcpSettings,
    OnPremSettings,
    PipelinesDatabase,
    SchedulerSpec,
    StorageSpec,
    TenantSpec,
    quantity_value,
)
from kubeforge.machines import GpuMachineType

__all__ = [
    "AccessSpec",
    "AwsCluster",
    "AwsSettings",
    "ComponentSpec",
    "CpuPool",
    "DriverInstallPath",
    "ExistingCluster",
    "GcpSettings",
    "GkeCluster",
    "GpuPool",
    "MigLayout",
    "NAS_STORAGE_CLASS",
    "OnPremSettings",
    "PipelinesDatabase",
    "ResolvedComponent",
    "ResolvedStack",
    "SchedulerSpec",
    "StorageSpec",
    "TenantSpec",
    "frozen",
    "quantity_value",
]

DriverInstallPath = Literal["ami", "cos-installer", "operator", "host"]
NAS_STORAGE_CLASS = "kubeforge-nas"
"""The one RWX StorageClass name on every target (components/storage creates it)."""
Target = Literal["aws", "gcp", "onprem"]


def frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only view of a copy of ``mapping``."""
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CpuPool:
    """A pool of CPU nodes for platform services (cloud targets)."""

    name: str
    machine_type: str
    """Resolved: the pool's machineType or the target's default system machine."""
    min: int
    max: int
    disk_gb: int
    labels: Mapping[str, str]
    """The user's extra node labels (reserved prefixes refused at load)."""


@dataclass(frozen=True)
class MigLayout:
    strategy: Literal["single", "mixed"]
    layout: str
    """As written, e.g. "3g.40gb,2g.20gb,1g.10gb"."""
    profiles: Mapping[str, int]
    """Parsed: instances per MIG profile on every GPU of the pool."""


@dataclass(frozen=True)
class GpuPool:
    """A GPU node pool with its machine type resolved from the machine-type table."""

    name: str
    model: str
    """GPU model id from the one GPU table (gpu-drivers/data/mig_profiles.yaml)."""
    gpus_per_node: int
    driver: str
    """The pinned NVIDIA driver, checked against every catalog image's CUDA at load."""
    allow_eol_driver: bool
    mig: MigLayout | None
    min: int
    max: int
    disk_gb: int
    labels: Mapping[str, str]
    """The user's extra node labels; kubeforge's own labels are added on top and win."""
    machine: GpuMachineType | None
    """None on-prem (existing nodes)."""
    nodes: tuple[str, ...]
    """On-prem: the existing nodes named in config."""
    node_selector: Mapping[str, str]
    """On-prem: the label selector choosing the pool's existing nodes."""
    capacity_nodes: int
    """Nodes counted for capacity: named nodes on-prem, else ``max``."""

    @property
    def gpus(self) -> int:
        return self.capacity_nodes * self.gpus_per_node


@dataclass(frozen=True)
class AwsCluster:
    name: str
    kubernetes_version: str
    settings: AwsSettings
    ami: EksAmiRelease
    """The pinned AL2023 NVIDIA AMI release for this Kubernetes version."""


@dataclass(frozen=True)
class GkeCluster:
    name: str
    kubernetes_version: str
    settings: GcpSettings


@dataclass(frozen=True)
class ExistingCluster:
    kubernetes_version: str
    settings: OnPremSettings
    """Defaults filled in when the stack gives no ``onprem`` block."""


@dataclass(frozen=True)
class ResolvedComponent:
    """One enabled upstream component at the version the stack installs."""

    key: str
    """Catalog key, e.g. gpuOperator."""
    pin: ComponentPin
    """The catalog pin for ``version`` (the release's, or the one a version override names)."""
    overridden: bool
    """The stack chose another version than its release pins."""
    values_overrides: Mapping[str, Any]
    settings: ComponentSpec
    """The component's whole config block, for its typed keys."""

    @property
    def version(self) -> str:
        return self.pin.version

    @property
    def namespace(self) -> str:
        return self.pin.namespace


@dataclass(frozen=True)
class ResolvedStack:
    """Everything one stack deploys."""

    stack: str
    target: Target
    kubernetes_version: str
    release: Release
    cluster: AwsCluster | GkeCluster | ExistingCluster
    cpu_pools: Mapping[str, CpuPool]
    gpu_pools: Mapping[str, GpuPool]
    storage: StorageSpec
    scheduler: SchedulerSpec
    components: Mapping[str, ResolvedComponent]
    """Enabled components by catalog key (Volcano included when the scheduler is on)."""
    storage_components: Mapping[str, ResolvedComponent]
    """The release's storage drivers and stores (catalog ``storage:``), configured under
    ``storage:``; each storage component decides whether the target needs it."""
    tenants: Mapping[str, TenantSpec]
    access: AccessSpec | None
    """The front door (hostname, certificate issuer, login); set exactly when istio is."""
    driver_install_path: DriverInstallPath
    """Who puts the pinned NVIDIA driver on GPU nodes: the EKS AMI release (aws), Google's
    COS installer (gcp), or on-prem the host scripts or the GPU Operator."""
    warnings: tuple[str, ...] = ()
    """Deployable but worth a look (e.g. a new-feature driver branch)."""

    @property
    def gpu_capacity(self) -> int:
        return sum(p.gpus for p in self.gpu_pools.values())

    @property
    def nas_storage_class(self) -> str | None:
        """The ReadWriteMany StorageClass of the platform's NAS (None without file storage)."""
        return NAS_STORAGE_CLASS if self.storage.file.enabled else None

    def platform_image(self, key: str) -> str:
        """An image kubeforge itself runs, from the catalog release."""
        return self.release.platform_images[key].image

    def workload_image(self, role: str, repository: str) -> str:
        """The catalog release's image of ``repository`` for tenants' workloads of ``role``
        (training, serving): an exact tag whose CUDA every GPU pool was checked against."""
        for image in self.release.images.values():
            if image.role == role and image.image.split(":")[0] == repository:
                return image.image
        raise ValueError(f"catalog release {self.release.release} offers no {role} image of {repository}")

    @property
    def region(self) -> str:
        """The cloud region of the cluster, or ``onprem``."""
        return getattr(getattr(self.cluster, "settings", None), "region", None) or "onprem"
