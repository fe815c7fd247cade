"""Labels and taints existing GPU nodes chosen by a label selector, including nodes that join later.

A DaemonSet runs on every node matching the pool's selector. Its init containers label
and taint their own node (the node name comes from the downward API); a pause container
then keeps the pod resident, so a node added to the pool later gets marked when the
DaemonSet schedules onto it, and a change of labels in config rolls out to every node.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import GPU_TAINT, gpu_node_labels
from components.labels import recommended_labels
from kubeforge.config.resolved import GpuPool

# Restricted pod security: kubectl needs nothing from the node itself.
# Ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
_RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
_SMALL = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}


@dataclass(frozen=True)
class GpuNodeMarkerArgs:
    pool: GpuPool
    """The on-prem GPU pool whose nodeSelector picks the nodes to mark."""
    namespace: str
    """Namespace of the DaemonSet and its service account (kubeforge-system)."""
    kubectl_image: str
    """The catalog's pinned kubectl image (platformImages.kubectl)."""
    pause_image: str
    """The catalog's pinned pause image (platformImages.pause)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class GpuNodeMarker(pulumi.ComponentResource):
    """Keeps the GPU labels and taint on every node a pool's selector matches."""

    def __init__(self, name: str, args: GpuNodeMarkerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:cluster:GpuNodeMarker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        pool = args.pool
        app = f"gpu-node-marker-{pool.name}"
        labels = recommended_labels(name=app, instance=name, component="cluster")
        selector = {"app.kubernetes.io/name": app}

        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata={"name": app, "namespace": args.namespace, "labels": labels}, opts=child
        )
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata={"name": f"kubeforge:{app}", "labels": labels},
            # Labels and taints are node fields: get + patch on nodes, nothing else.
            rules=[{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}],
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-binding",
            metadata={"name": f"kubeforge:{app}", "labels": labels},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": args.namespace}],
            opts=child,
        )
        node_name = {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
        label_args = [f"{k}={v}" for k, v in sorted(gpu_node_labels(pool).items())]
        taint = f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}"

        def kubectl(step: str, args_: list[str]) -> dict:
            # The image's entrypoint is kubectl; $(NODE_NAME) is expanded by the kubelet.
            # Ref: https://github.com/kubernetes/kubernetes/pull/116672
            return {
                "name": step, "image": args.kubectl_image, "args": args_, "env": [node_name],
                "securityContext": _RESTRICTED, "resources": _SMALL,
            }

        k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata={"name": app, "namespace": args.namespace, "labels": labels},
            spec={
                # Selectors are immutable: the name label alone, as before recommended labels.
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": app,
                        "nodeSelector": dict(pool.node_selector),
                        # Must run on the nodes it taints, and on nodes tainted by others.
                        "tolerations": [{"operator": "Exists"}],
                        "initContainers": [
                            kubectl("label", ["label", "node", "$(NODE_NAME)", "--overwrite", *label_args]),
                            kubectl("taint", ["taint", "node", "$(NODE_NAME)", taint, "--overwrite"]),
                        ],
                        "containers": [{
                            "name": "pause", "image": args.pause_image,
                            "securityContext": _RESTRICTED, "resources": _SMALL,
                        }],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[account]),
        )
        self.register_outputs({})
