"""The registry: every platform component, by key, and the order they are created in.

Adding a component is one module (a :class:`~components.component.PlatformComponent`)
and one line here. :class:`~components.platform.Platform` walks :data:`REGISTRY` in
dependency order; it knows no component by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from components.access.cert_manager import CertManager
from components.access.gateway import IngressGateway
from components.access.istio import Istio
from components.access.login import Login
from components.component import PlatformComponent
from components.gpu.cos_driver import CosDriverInstaller
from components.gpu.operator import GpuOperator
from components.ml.notebooks import Notebooks
from components.monitoring.stack import Monitoring
from components.ml.pipelines import Pipelines
from components.ml.serving import KnativeServing, Serving
from components.ml.training import Training, TrainingOperator
from components.ml.upstream import CentralDashboard, Katib, KubeflowRoles, PodDefaultsWebhook, Profiles
from components.platform.namespaces import PlatformNamespaces
from components.scheduling.priority import TenantPriorityClasses
from components.scheduling.volcano import VolcanoScheduler
from components.storage.efs import EfsNas
from components.storage.filestore import FilestoreNas
from components.storage.nfs import NfsNas
from components.storage.seaweedfs import SeaweedFsStore
from components.storage.tenant import TenantStorage
from components.tenancy.queue_policy import TenantQueuePolicy
from components.tenancy.route_policy import TenantRoutePolicy
from components.tenancy.tenant import TenantNamespace

REGISTRY: tuple[type[PlatformComponent], ...] = (
    PlatformNamespaces,
    CosDriverInstaller,
    GpuOperator,
    TenantPriorityClasses,
    VolcanoScheduler,
    TenantNamespace,
    EfsNas,
    FilestoreNas,
    NfsNas,
    SeaweedFsStore,
    TenantStorage,
    TenantQueuePolicy,
    CertManager,
    TenantRoutePolicy,
    Istio,
    IngressGateway,
    Login,
    KubeflowRoles,
    Profiles,
    PodDefaultsWebhook,
    CentralDashboard,
    Notebooks,
    Training,
    TrainingOperator,
    Katib,
    KnativeServing,
    Serving,
    Pipelines,
    Monitoring,
)


class RegistryError(Exception):
    """The registry itself is inconsistent (a programming error, caught by the tests)."""


def dependency_order(components: Iterable[type[PlatformComponent]]) -> list[type[PlatformComponent]]:
    """Components ordered so each comes after everything it depends on; ties keep registry order."""
    entries = list(components)
    by_key: dict[str, type[PlatformComponent]] = {}
    for entry in entries:
        if entry.key in by_key:
            raise RegistryError(f"two components register the key {entry.key!r}")
        by_key[entry.key] = entry
    for entry in entries:
        missing = [d for d in entry.depends_on if d not in by_key]
        if missing:
            raise RegistryError(f"{entry.key} depends on {', '.join(missing)}, which no component registers")
    ordered: list[type[PlatformComponent]] = []
    placed: set[str] = set()
    needs = {e.key: (*e.depends_on, *(a for a in e.after if a in by_key)) for e in entries}
    while len(ordered) < len(entries):
        ready = [e for e in entries if e.key not in placed and all(d in placed for d in needs[e.key])]
        if not ready:
            cycle = sorted(e.key for e in entries if e.key not in placed)
            raise RegistryError(f"dependency cycle among {', '.join(cycle)}")
        ordered.append(ready[0])
        placed.add(ready[0].key)
    return ordered
