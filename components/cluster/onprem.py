"""An existing Kubernetes cluster (on-prem): a provider from a kubeconfig, GPU nodes marked.

GPU nodes named in config get a server-side-apply patch each; nodes chosen by a label
selector are marked by a DaemonSet (``node_marker``), which also covers nodes that join later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import GPU_TAINT, gpu_node_labels
from components.cluster.node_marker import GpuNodeMarker, GpuNodeMarkerArgs
from components.component import ClusterAccess
from components.labels import recommended_labels
from kubeforge.config.resolved import ExistingCluster as ExistingClusterSpec
from kubeforge.config.resolved import GpuPool, OnPremSettings, ResolvedStack


SYSTEM_NAMESPACE = "kubeforge-system"


@dataclass(frozen=True)
class ExistingClusterArgs:
    settings: OnPremSettings
    """On-prem settings, defaults filled in (kubeconfig context, driver install path)."""
    gpu_pools: Mapping[str, GpuPool]
    """The GPU pools: named nodes get a patch each, selected nodes a marker DaemonSet."""
    kubectl_image: str
    """The catalog's pinned kubectl image, for the node marker."""
    pause_image: str
    """The catalog's pinned pause image, for the node marker."""
    kubeconfig: pulumi.Output[str] | None
    """Secret kubeconfig from stack config; None: the deploying machine's $KUBECONFIG."""

    @classmethod
    def from_stack(cls, stack: ResolvedStack, kubeconfig: pulumi.Output[str] | None) -> "ExistingClusterArgs":
        cluster = stack.cluster
        assert isinstance(cluster, ExistingClusterSpec)
        return cls(settings=cluster.settings, gpu_pools=stack.gpu_pools, kubectl_image=stack.platform_image("kubectl"),
                   pause_image=stack.platform_image("pause"), kubeconfig=kubeconfig)


class ExistingCluster(pulumi.ComponentResource):
    """Adopts an existing cluster: one explicit provider, GPU nodes labelled and tainted."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str] | None
    access: ClusterAccess

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:cluster:ExistingCluster", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=args.kubeconfig,
            context=args.settings.kubeconfig_context,
            # An unreachable cluster is an error, not a reason to drop its resources from state.
            delete_unreachable=False,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Without a configured kubeconfig the deploying machine's own is used and not exported.
        self.kubeconfig = pulumi.Output.secret(args.kubeconfig) if args.kubeconfig is not None else None
        for pool in args.gpu_pools.values():
            for node in pool.nodes:
                # Server-side apply patch: kubeforge owns only these labels and this taint.
                k8s.core.v1.NodePatch(
                    f"{name}-{pool.name}-{node}",
                    metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=node, labels=gpu_node_labels(pool)),
                    spec=k8s.core.v1.NodeSpecPatchArgs(taints=[k8s.core.v1.TaintPatchArgs(**GPU_TAINT)]),
                    opts=pulumi.ResourceOptions(parent=self, provider=self.provider, retain_on_delete=True),
                )
        selected = [pool for pool in args.gpu_pools.values() if pool.node_selector]
        if selected:
            namespace = k8s.core.v1.Namespace(
                f"{name}-system",
                metadata={"name": SYSTEM_NAMESPACE, "labels": {
                    **recommended_labels(name=SYSTEM_NAMESPACE, instance=name, component="cluster"),
                    "pod-security.kubernetes.io/enforce": "restricted",
                }},
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
            )
            for pool in selected:
                GpuNodeMarker(
                    f"{name}-{pool.name}-marker",
                    GpuNodeMarkerArgs(pool=pool, namespace=SYSTEM_NAMESPACE, kubectl_image=args.kubectl_image,
                                      pause_image=args.pause_image, provider=self.provider),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
                )
        self.access = ClusterAccess(provider=self.provider)
        self.register_outputs({"kubeconfig": self.kubeconfig})
