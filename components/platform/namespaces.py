"""The namespaces platform components are installed into."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

PART_OF = {"app.kubernetes.io/part-of": "kubeforge", "app.kubernetes.io/managed-by": "kubeforge"}


@dataclass(frozen=True)
class PlatformNamespacesArgs:
    names: list[str]
    """Namespaces to create, from the catalog entries of the enabled components."""
    provider: k8s.Provider


class PlatformNamespaces(pulumi.ComponentResource):
    """One namespace per platform component namespace, labelled as kubeforge's."""

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: PlatformNamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:platform:PlatformNamespaces", name, None, opts)
        self.namespaces = {
            ns: k8s.core.v1.Namespace(
                f"{name}-{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels=dict(PART_OF)),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for ns in sorted(set(args.names))
        }
        self.register_outputs({"names": sorted(self.namespaces)})
