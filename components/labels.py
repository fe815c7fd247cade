"""The Kubernetes recommended labels kubeforge puts on every object it creates.

Ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
"""

from __future__ import annotations

from importlib import metadata

PART_OF = "kubeforge"
TENANT_LABEL = "kubeforge.io/tenant"
"""On a tenant's namespace and objects: the tenant they belong to (only the platform sets it)."""
MANAGED_BY = "kubeforge"


def kubeforge_version() -> str:
    try:
        return metadata.version("kubeforge")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0.0.0"


def recommended_labels(*, name: str, instance: str, component: str, version: str | None = None) -> dict[str, str]:
    """``app.kubernetes.io/{name, instance, version, component, part-of, managed-by}``.

    ``version`` is the upstream version an object belongs to (e.g. the GPU Operator's chart
    for its MIG ConfigMap); objects that are kubeforge's own carry kubeforge's version.
    """
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/version": version or kubeforge_version(),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
