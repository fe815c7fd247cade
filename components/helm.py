"""Upstream software from a catalog pin: a Helm release, a set of kustomize manifests, or an
object of an upstream kind.

The only places a chart, a chart version or a manifest URL reaches a resource: each is
read from the component's resolved pin (:class:`~kubeforge.config.resolved.ResolvedComponent`),
never written in a component.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from kubeforge.config.resolved import ResolvedComponent


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def helm_release(
    name: str,
    component: ResolvedComponent,
    *,
    release_name: str,
    values: Mapping[str, Any],
    provider: k8s.Provider,
    opts: pulumi.ResourceOptions,
    chart: int | str = 0,
    overrides: bool = True,
    namespace: str | None = None,
) -> k8s.helm.v3.Release:
    """A chart of the component's pin (by position or name), at its exact version, in the
    component's namespace (or ``namespace``), with kubeforge's ``values`` and, where
    ``overrides``, the stack's valuesOverrides deep-merged over them (a component of several
    charts takes the overrides on its main chart only).

    The config checks refuse overrides of images, versions and the values kubeforge derives
    (a component's ``pinned_values``), so the merge cannot undo a pin.
    """
    pinned = component.pin.chart(chart) if isinstance(chart, str) else component.pin.charts[chart]
    return k8s.helm.v3.Release(
        name,
        name=release_name,
        chart=pinned.name,
        version=pinned.version,
        repository_opts={"repo": pinned.repository},
        namespace=namespace or component.namespace,
        values=deep_merge(values, component.values_overrides) if overrides else dict(values),
        # A failed install or upgrade rolls back instead of leaving a half-applied release.
        atomic=True,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
    )


def custom_resource(resource_name: str, api_version: str, kind: str, *, name: str, namespace: str | None,
                    labels: Mapping[str, str], spec: Mapping[str, Any], opts: pulumi.ResourceOptions
                    ) -> k8s.apiextensions.CustomResource:
    """An object of an upstream kind (its CRD installed by an upstream component)."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return k8s.apiextensions.CustomResource(resource_name, api_version=api_version, kind=kind, metadata=metadata,
                                            spec=dict(spec), opts=opts)


def image_tag(component: ResolvedComponent, chart: str) -> dict[str, Any]:
    """``{"image": {"tag": ...}}`` where the catalog pins the chart's application at another
    version than the chart's own appVersion (charts that trail their application)."""
    app_version = component.pin.chart(chart).app_version
    return {"image": {"tag": app_version}} if app_version else {}


def manifest_set(
    name: str,
    component: ResolvedComponent,
    *,
    provider: k8s.Provider,
    opts: pulumi.ResourceOptions,
) -> list[k8s.kustomize.v2.Directory]:
    """One kustomize directory per URL of the component's pin (``...//path?ref=<tag>``)."""
    manifests = component.pin.manifests
    if manifests is None:
        raise ValueError(f"{component.key} is pinned as Helm charts, not manifests")
    return [
        k8s.kustomize.v2.Directory(
            f"{name}-{i}" if len(manifests.urls) > 1 else name,
            directory=url,
            namespace=component.namespace,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
        )
        for i, url in enumerate(manifests.urls)
    ]
