"""The namespaces platform components are installed into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack


@dataclass(frozen=True)
class PlatformNamespacesArgs:
    names: tuple[str, ...]
    """Namespaces to create: those of the enabled catalog components, sorted, distinct."""
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
        names = tuple(sorted({c.namespace for c in stack.components.values()}))
        if not names:
            return {}
        return {cls.default_name(): PlatformNamespacesArgs(names=names, provider=cluster.provider)}

    def __init__(self, name: str, args: PlatformNamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.namespaces = {
            ns: k8s.core.v1.Namespace(
                f"{name}-{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=ns, labels=recommended_labels(name=ns, instance=name, component=self.concern),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for ns in args.names
        }
        self.register_outputs({"names": sorted(self.namespaces)})
