"""The namespaces platform components are installed into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack, frozen


# Most permissive wins where components share a namespace (Kubeflow's share "kubeflow").
_LEVELS = ("restricted", "baseline", "privileged")


@dataclass(frozen=True)
class PlatformNamespacesArgs:
    names: tuple[str, ...]
    """Namespaces to create: those of the enabled catalog components, sorted, distinct."""
    pod_security: Mapping[str, str]
    """Pod Security level enforced per namespace: the catalog's level of its components
    (privileged only where a component says why, in the catalog)."""
    mesh: tuple[str, ...]
    """Namespaces whose pods join the Istio mesh (sidecar injection), where Istio is installed."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class PlatformNamespaces(PlatformComponent):
    """One namespace per enabled component's catalog namespace, labelled as kubeforge's."""

    key = "namespaces"
    type_token = "kubeforge:platform:PlatformNamespaces"
    args_type = PlatformNamespacesArgs
    concern = "platform"
    # Named "kubeforge-namespaces" (after the Platform) before the registry named it.
    previous_names: ClassVar = {"namespaces": "kubeforge-namespaces"}

    namespaces: dict[str, k8s.core.v1.Namespace]

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, PlatformNamespacesArgs]:
        levels: dict[str, str] = {}
        for component in stack.components.values():
            if component.pin.creates_namespace:
                continue
            level = component.pin.pod_security
            current = levels.get(component.namespace, "restricted")
            levels[component.namespace] = max(current, level, key=_LEVELS.index)
        if not levels:
            return {}
        mesh = sorted({c.namespace for c in stack.components.values() if c.pin.mesh and c.namespace in levels}) \
            if "istio" in stack.components else []
        return {cls.default_name(): PlatformNamespacesArgs(
            names=tuple(sorted(levels)), pod_security=frozen(levels), mesh=tuple(mesh), provider=cluster.provider,
        )}

    def __init__(self, name: str, args: PlatformNamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.namespaces = {
            ns: k8s.core.v1.Namespace(
                f"{name}-{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels={
                    **recommended_labels(name=ns, instance=name, component=self.concern),
                    # Ref: https://kubernetes.io/docs/concepts/security/pod-security-admission/
                    "pod-security.kubernetes.io/enforce": args.pod_security[ns],
                    "pod-security.kubernetes.io/warn": args.pod_security[ns],
                    # Ref: https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/
                    **({"istio-injection": "enabled"} if ns in args.mesh else {}),
                }),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for ns in args.names
        }
        self.register_outputs({"names": sorted(self.namespaces)})
